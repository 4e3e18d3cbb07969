"""The DedupStore contract, run against every adapter (SQLite here; DynamoDB on moto, Table
Storage on Azurite, Firestore on its emulator in their own test modules).

Subclass `DedupConformance` and implement `make_store(clock)`: a *new* store (new client or
connection) over the *same* backing table each call, with `lease=LEASE` and the given clock, so
the race test really races separate clients. Use a unique table/collection per test class."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kubetrail.dedup.base import Claim

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
LEASE = timedelta(minutes=5)


class Clock:
    """A settable wall clock for lease tests."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class DedupConformance:
    def make_store(self, clock: Clock) -> Any:  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def key(self) -> str:
        return f"Kubernetes.DaemonSet.Created:alice@example.com\x1fkube-system:{uuid.uuid4()}"

    def test_first_match_opens_window_and_later_ones_count(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        first = store.claim(key, T0, HOUR)
        assert (first.owner, first.count, first.window_start) == (True, 1, T0)
        assert first.window_end == T0 + HOUR
        store.confirm(first)
        second = store.claim(key, T0 + timedelta(minutes=59), HOUR)
        third = store.claim(key, T0 + timedelta(minutes=10), HOUR)
        assert (second.owner, second.count) == (False, 2)
        assert (third.owner, third.count, third.window_start) == (False, 3, T0)

    def test_window_is_anchored_at_event_time_and_reopens_at_its_end(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        store.confirm(store.claim(key, T0, HOUR))
        reopened = store.claim(key, T0 + HOUR, HOUR)  # exactly at the end: a new window
        assert (reopened.owner, reopened.count, reopened.window_start) == (True, 1, T0 + HOUR)
        store.confirm(reopened)
        assert not store.claim(key, T0 + HOUR + timedelta(minutes=30), HOUR).owner

    def test_late_event_before_window_start_is_counted_not_published(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        store.confirm(store.claim(key, T0, HOUR))
        late = store.claim(key, T0 - timedelta(minutes=5), HOUR)
        assert (late.owner, late.count) == (False, 2)

    def test_release_lets_the_retry_publish(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        first = store.claim(key, T0, HOUR)
        store.release(first)
        retry = store.claim(key, T0, HOUR)
        assert (retry.owner, retry.count) == (True, 1)

    def test_release_with_a_stale_token_changes_nothing(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        first = store.claim(key, T0, HOUR)
        store.confirm(first)
        stale = Claim(key, first.window_start, first.window_end, 1, True, "not-the-token")
        store.release(stale)
        store.release(first)  # already published: release must not delete it
        assert not store.claim(key, T0 + timedelta(minutes=1), HOUR).owner

    def test_expired_lease_of_a_dead_owner_is_taken_over(self) -> None:
        clock = Clock()
        store, key = self.make_store(clock), self.key()
        dead = store.claim(key, T0, HOUR)  # owner dies: neither confirm nor release
        assert dead.owner
        clock.now = T0 + timedelta(minutes=1)
        assert not store.claim(key, T0, HOUR).owner  # lease still held
        clock.now = T0 + LEASE + timedelta(seconds=1)
        taken = store.claim(key, T0, HOUR)
        assert taken.owner and taken.token != dead.token
        store.confirm(taken)
        clock.now = T0 + 2 * LEASE
        assert not store.claim(key, T0, HOUR).owner

    def test_threshold_publishes_on_the_nth_match(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        owners = [store.claim(key, T0 + timedelta(minutes=i), HOUR, 3).owner for i in range(5)]
        assert owners == [False, False, True, False, False]

    def test_keys_are_independent_and_any_string_is_a_key(self) -> None:
        store = self.make_store(Clock())
        odd = ["a/b#c?d\\e", "ünïcödé\x1f\x00\n", "x" * 3000, self.key()]
        assert all(store.claim(k, T0, HOUR).owner for k in odd)

    def test_eight_racing_workers_produce_exactly_one_owner(self) -> None:
        key, clock = self.key(), Clock()
        stores = [self.make_store(clock) for _ in range(8)]
        barrier = threading.Barrier(8)
        results: list[Claim] = []
        errors: list[BaseException] = []

        def work(store: Any, i: int) -> None:
            try:
                barrier.wait()
                results.append(store.claim(key, T0 + timedelta(seconds=i), HOUR))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(s, i)) for i, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sum(c.owner for c in results) == 1
        assert sorted(c.count for c in results) == list(range(1, 9))
