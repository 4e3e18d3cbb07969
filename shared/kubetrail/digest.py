"""SHA-256 for finding ids, long dedup keys and distinct values, without `import hashlib`.

hashlib loads OpenSSL when it is imported: several milliseconds, paid at the first finding of
every process (the first cold invocation of a function included). CPython's own SHA-256 module
gives the same digests and loads in a fraction of that; hashlib is the fallback for a Python
built without it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Hash(Protocol):
    """What callers read of a hash object."""

    def digest(self) -> bytes: ...

    def hexdigest(self) -> str: ...


_IMPL: list[Callable[[bytes], Hash]] = []


def sha256(data: bytes) -> Hash:
    """A SHA-256 hash object of `data` (`.digest()`, `.hexdigest()`), as hashlib.sha256 makes."""
    if not _IMPL:
        _IMPL.append(_implementation())
    return _IMPL[0](data)


def _implementation() -> Callable[[bytes], Hash]:
    try:  # CPython 3.12 and later
        from _sha2 import sha256 as impl  # type: ignore[import-not-found]
    except ImportError:
        try:  # CPython 3.11
            from _sha256 import sha256 as impl  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError:  # pragma: no cover - a Python built without its own SHA-256
            from hashlib import sha256 as impl  # type: ignore[assignment,unused-ignore]
    return impl  # type: ignore[no-any-return,unused-ignore]
