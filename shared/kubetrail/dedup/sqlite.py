"""SQLite DedupStore: the local default (`kubetrail scan --dedup-db`).

One row per dedup key. Writes are compare-and-swap on a `version` column (an INSERT that fails on
an existing key, an UPDATE or DELETE `WHERE version = ?`), so claims are atomic across threads
and across processes sharing the file, with the same transitions as every cloud store
(kubetrail.dedup.window)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kubetrail.dedup.base import DEFAULT_LEASE
from kubetrail.dedup.cas import CasDedupStore
from kubetrail.dedup.window import Window, from_fields, from_us, to_fields, to_us
from kubetrail.errors import ConfigError, PublishError

# Table dedup_windows_v2 (v1, REAL seconds and no severity, is left alone in old files).
_COLUMNS = ("window_start", "window_end", "count", "last_seen", "state", "token", "lease_until",
            "expires_at", "severity", "published", "distinct_values", "op")
_PURGE = "DELETE FROM dedup_windows_v2 WHERE expires_at < ?"
_SELECT = ("SELECT version, window_start, window_end, count, last_seen, state, token, lease_until,"
           " expires_at, severity, published, distinct_values, op"
           " FROM dedup_windows_v2 WHERE key = ?")
_INSERT = "INSERT INTO dedup_windows_v2 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_UPDATE = ("UPDATE dedup_windows_v2 SET version = ?, window_start = ?, window_end = ?, count = ?,"
           " last_seen = ?, state = ?, token = ?, lease_until = ?, expires_at = ?, severity = ?,"
           " published = ?, distinct_values = ?, op = ? WHERE key = ? AND version = ?")
_DELETE = "DELETE FROM dedup_windows_v2 WHERE key = ? AND version = ?"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS dedup_windows_v2 (
    key TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    window_start INTEGER NOT NULL,   -- epoch microseconds, like every time here
    window_end INTEGER NOT NULL,
    count INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    state TEXT NOT NULL,             -- counting | pending | published
    token TEXT NOT NULL,
    lease_until INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    severity INTEGER NOT NULL,
    published INTEGER NOT NULL,
    distinct_values TEXT NOT NULL,
    op TEXT NOT NULL
)
"""


class SqliteDedupStore(CasDedupStore):
    """Dedup windows in one SQLite file (or `:memory:`). Expired windows are purged on open."""

    what = "sqlite dedup store"

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        lease: timedelta = DEFAULT_LEASE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.lease = lease
        self.clock = clock
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            self._db.execute(_PURGE, (to_us(clock()),))
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot open dedup database {path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def _run(self, sql: str, args: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            with self._lock:
                return self._db.execute(sql, args)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:  # locked for longer than the timeout, disk full, ...
            raise PublishError(f"dedup database: {exc}") from exc

    def _read(self, key: str) -> tuple[Window | None, Any]:
        row = self._run(_SELECT, (key,)).fetchone()
        if row is None:
            return None, None
        fields = dict(zip(_COLUMNS, row[1:], strict=True))
        fields["distinct"] = fields.pop("distinct_values")
        return from_fields(key, fields, from_us(int(fields["expires_at"]))), row[0]

    def _put(self, key: str, window: Window, version: Any) -> bool:
        fields = to_fields(window)
        fields["expires_at"] = to_us(window.expires)
        values = tuple(fields[c if c != "distinct_values" else "distinct"] for c in _COLUMNS)
        if version is None:
            try:
                self._run(_INSERT, (key, 1, *values))
            except sqlite3.IntegrityError:
                return False  # another writer created it first
            return True
        cur = self._run(_UPDATE, (version + 1, *values, key, version))
        return cur.rowcount == 1

    def _delete(self, key: str, version: Any) -> bool:
        cur = self._run(_DELETE, (key, version))
        return cur.rowcount == 1
