"""SQLite DedupStore: the local default (`kubetrail scan --dedup-db`). Claims run in
`BEGIN IMMEDIATE` transactions, so they are atomic across threads and processes sharing a file."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kubetrail.dedup.base import DEFAULT_LEASE, Claim, expires_at
from kubetrail.errors import ConfigError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dedup_windows (
    key TEXT PRIMARY KEY,
    window_start REAL NOT NULL,
    window_end REAL NOT NULL,
    count INTEGER NOT NULL,
    last_seen REAL NOT NULL,
    state TEXT NOT NULL,          -- counting | pending | published
    token TEXT NOT NULL,
    lease_until REAL NOT NULL,
    expires_at REAL NOT NULL
)
"""


def _ts(t: datetime) -> float:
    return t.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class SqliteDedupStore:
    """Dedup windows in one SQLite file (or `:memory:`). Expired windows are purged on open."""

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
            self._db.execute("DELETE FROM dedup_windows WHERE expires_at < ?",
                             (_ts(self.clock()),))
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot open dedup database {path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def claim(self, key: str, event_time: datetime, period: timedelta, threshold: int = 1
              ) -> Claim:
        now, ev = _ts(self.clock()), _ts(event_time)
        token = uuid.uuid4().hex
        lease_until = now + self.lease.total_seconds()
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT window_start, window_end, count, last_seen, state, token, lease_until"
                    " FROM dedup_windows WHERE key = ?", (key,)).fetchone()
                if row is None or ev >= row[1]:
                    end = ev + period.total_seconds()
                    owner = threshold <= 1
                    db.execute(
                        "INSERT OR REPLACE INTO dedup_windows VALUES (?,?,?,?,?,?,?,?,?)",
                        (key, ev, end, 1, ev, "pending" if owner else "counting", token,
                         lease_until, _ts(expires_at(_dt(end), _dt(now), period))))
                    claim = Claim(key, event_time, _dt(end), 1, owner, token)
                else:
                    start, end, count, last_seen, state, old_token, old_lease = row
                    count += 1
                    reached = count == threshold and state == "counting"
                    takeover = state == "pending" and old_lease < now
                    owner = reached or takeover
                    db.execute(
                        "UPDATE dedup_windows SET count = ?, last_seen = ?, state = ?, token = ?,"
                        " lease_until = ? WHERE key = ?",
                        (count, max(last_seen, ev), "pending" if owner else state,
                         token if owner else old_token, lease_until if owner else old_lease, key))
                    claim = Claim(key, _dt(start), _dt(end), count, owner,
                                  token if owner else old_token)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return claim

    def confirm(self, claim: Claim) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE dedup_windows SET state = 'published' WHERE key = ? AND token = ?",
                (claim.key, claim.token))

    def release(self, claim: Claim) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM dedup_windows WHERE key = ? AND token = ? AND state = 'pending'",
                (claim.key, claim.token))
