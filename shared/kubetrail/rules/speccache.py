"""Parsed rule YAML, cached by content, so a start-up does not re-parse the pack's YAML.

Parsing the whole bundled pack's YAML (its Tests included) costs ~100 ms, more than everything
else a cold `kubetrail scan` does. A rule file's parsed form is kept as JSON text under the
BLAKE2b digest of the file's bytes: an edited file has another digest, so a stale entry is never
used (no timestamps involved; the cache can be built once at package time and shipped). Two
places are read, in order:

* `packs/.specs.cache` beside the bundled packs — written at build/package time
  (`build_bundled()`, run by `make venv`), read-only afterwards;
* `$KUBETRAIL_CACHE_DIR/specs.cache`, by default `$XDG_CACHE_HOME/kubetrail` or
  `~/.cache/kubetrail`: new entries are added here after a load that parsed files. An empty
  KUBETRAIL_CACHE_DIR turns this one off. Failing to read or write it is never an error.

The file is JSON (orjson), so a damaged or crafted cache file can at worst serve other rule specs,
which whoever can write it could already do to the rule files; it is trusted as much as they are.
Each read returns fresh objects (one JSON parse per rule), so a caller may keep or change what it
gets. A value JSON does not hold exactly (a YAML timestamp, set or binary, a non-string key) is
not cached and is parsed each time.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

try:  # hashlib's own BLAKE2b, without hashlib's import of OpenSSL (a few ms of every start)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import blake2b

_FORMAT = b"kubetrail-specs-1\n"  # then one JSON object: digest (hex) -> the spec as JSON text
_MAX_ENTRIES = 4096  # past this, the user cache starts again from what the last load parsed
__all__ = ["PACKAGED", "SpecCache", "blake2b", "build", "build_bundled", "user_cache"]
PACKAGED = Path(__file__).resolve().parent.parent / "packs" / ".specs.cache"


def user_cache() -> Path | None:
    """The per-user cache file, or None when turned off."""
    configured = os.environ.get("KUBETRAIL_CACHE_DIR")
    if configured is not None:
        return Path(configured) / "specs.cache" if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kubetrail" / "specs.cache"


def _read(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    import orjson  # (here: a start-up served by the pack cache never reads this cache)

    try:
        data = path.read_bytes()
        if not data.startswith(_FORMAT):
            return {}
        entries = orjson.loads(memoryview(data)[len(_FORMAT):])
    except Exception:  # absent, unreadable, truncated, another format: no cache
        return {}
    if type(entries) is not dict:
        return {}
    return entries


def _write(path: Path, entries: dict[str, str]) -> None:
    import orjson

    write_atomically(path, _FORMAT + orjson.dumps(entries))


def write_atomically(path: Path, data: bytes, mode: int = 0o666) -> None:
    """Replace the cache file `path` with `data` in one step (a reader sees the old file or the
    new one); an unwritable place only means no cache. `mode` goes through the umask."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):  # e.g. its directory could not be made
            tmp.unlink()


def _key(text: bytes) -> str:
    return blake2b(text, digest_size=20).hexdigest()


def _json(value: Any) -> str | None:
    """`value` as JSON text when JSON holds it exactly (not a YAML timestamp, set, binary or
    non-string key: those are parsed each time); else None."""
    import orjson

    try:
        text = orjson.dumps(value)
    except TypeError:
        return None
    return text.decode() if _same(orjson.loads(text), value) else None


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 == 1.0 == True would not do)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)



class SpecCache:
    """One load's view of both cache files; `save` adds what it parsed to the user cache."""

    def __init__(self, packaged: Path | None = PACKAGED, user: Path | None = None) -> None:
        self._packaged = _read(packaged)
        self._user_path = user_cache() if user is None else user
        self._user: dict[str, str] | None = None  # read on the first miss of packaged
        self._new: dict[str, str] = {}

    def spec(self, text: bytes, parse: Callable[[bytes], Any]) -> Any:
        """The parsed form of `text`: from a cache, else `parse(text)` (and remembered)."""
        key = _key(text)
        hit = self._packaged.get(key)
        if hit is None:
            if self._user is None:
                self._user = _read(self._user_path)
            hit = self._user.get(key) or self._new.get(key)
        if type(hit) is str:
            import orjson

            try:
                return orjson.loads(hit)
            except orjson.JSONDecodeError:  # a damaged entry: parsed again
                hit = None
        value = parse(text)
        stored = _json(value)
        if stored is not None:
            self._new[key] = stored
        return value

    def save(self) -> None:
        """Write the user cache when this load parsed anything new."""
        if self._new and self._user_path is not None:
            merged = {**(self._user or {}), **self._new}
            _write(self._user_path, merged if len(merged) <= _MAX_ENTRIES else self._new)
            self._new = {}


def build(files: Iterable[Path], parse: Callable[[bytes], Any], target: Path = PACKAGED) -> int:
    """Write the packaged cache of `files` (build time); the number of entries."""
    import orjson

    entries: dict[str, str] = {}
    for path in files:
        text = path.read_bytes()
        stored = _json(parse(text))
        if stored is not None:
            entries[_key(text)] = stored
    target.write_bytes(_FORMAT + orjson.dumps(entries))
    return len(entries)


def build_bundled() -> None:
    """Write the packaged cache of the bundled packs (make venv, function packaging)."""
    from kubetrail.rules.loader import BUNDLED_PACKS, parse_yaml, rule_files

    count = build(rule_files([BUNDLED_PACKS]), parse_yaml)
    print(f"{PACKAGED}: {count} rule files")
