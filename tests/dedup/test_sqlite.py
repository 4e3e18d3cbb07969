from __future__ import annotations

from pathlib import Path

import pytest

from kubetrail.dedup.sqlite import SqliteDedupStore
from kubetrail.errors import ConfigError
from tests.dedup.conformance import LEASE, Clock, DedupConformance


class TestSqliteDedupStore(DedupConformance):
    @pytest.fixture(autouse=True)
    def _db(self, tmp_path: Path) -> None:
        self.path = tmp_path / "dedup.sqlite"

    def make_store(self, clock: Clock) -> SqliteDedupStore:
        return SqliteDedupStore(self.path, lease=LEASE, clock=clock)


def test_unopenable_database_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot open dedup database"):
        SqliteDedupStore(tmp_path / "missing-dir" / "x.sqlite")


def test_old_windows_survive_reopening_the_database(tmp_path: Path) -> None:
    """Replaying last year's logs twice must not publish twice: expiry follows the wall clock."""
    from datetime import timedelta

    from tests.dedup.conformance import HOUR, T0

    path = tmp_path / "d.sqlite"
    old = T0 - timedelta(days=365)
    first = SqliteDedupStore(path, clock=Clock())
    first.confirm(first.claim("k", old, HOUR))
    first.close()
    assert not SqliteDedupStore(path, clock=Clock(T0 + HOUR)).claim("k", old, HOUR).owner
    assert SqliteDedupStore(path, clock=Clock(T0 + 3 * HOUR)).claim("k", old, HOUR).owner


def test_a_database_with_the_earlier_table_still_opens(tmp_path: Path) -> None:
    import sqlite3

    from tests.dedup.conformance import HOUR, T0

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE dedup_windows (key TEXT PRIMARY KEY, window_start REAL)")
    store = SqliteDedupStore(path, clock=Clock())
    assert store.claim("k", T0, HOUR).owner and not store.claim("k", T0, HOUR).owner
