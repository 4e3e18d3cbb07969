"""The dedup store of a local run (`kubetrail scan`): a SQLite file when one is named, else the
windows in memory. SQLite is imported only when a file is asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubetrail.dedup.memory import MemoryDedupStore
    from kubetrail.dedup.sqlite import SqliteDedupStore

IN_MEMORY = ":memory:"


def local_store(path: str = IN_MEMORY) -> MemoryDedupStore | SqliteDedupStore:
    """A MemoryDedupStore for `:memory:` (the default), else the SQLite store in file `path`.
    Both have `close()`."""
    if path == IN_MEMORY:
        from kubetrail.dedup.memory import MemoryDedupStore

        return MemoryDedupStore()
    from kubetrail.dedup.sqlite import SqliteDedupStore

    return SqliteDedupStore(path)
