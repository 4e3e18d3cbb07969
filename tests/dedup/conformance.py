"""The DedupStore contract, run against every adapter (SQLite here; DynamoDB on moto, Table
Storage on Azurite, Firestore on its emulator in their own test modules).

Subclass `DedupConformance` and implement `make_store(clock)`: a *new* store (new client or
connection) over the *same* backing table each call, with `lease=LEASE` and the given clock, so
the race test really races separate clients. Use a unique table/collection per test class."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kubetrail.dedup.base import Claim
from kubetrail.dedup.window import MAX_TIME, MIN_TIME

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
LEASE = timedelta(minutes=5)
INFO, LOW, MEDIUM, HIGH, CRITICAL = range(5)


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

    def race(self, clock: Clock, work: Callable[[Any, int], Claim]) -> list[Claim]:
        """Run `work(store, i)` for i in 0..7 at once, each on its own store (own client)."""
        stores = [self.make_store(clock) for _ in range(8)]
        barrier = threading.Barrier(8)
        results: list[Claim] = []
        errors: list[BaseException] = []

        def run(store: Any, i: int) -> None:
            try:
                barrier.wait()
                results.append(work(store, i))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(s, i)) for i, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(results) == 8
        return results

    def test_eight_racing_workers_produce_exactly_one_owner(self) -> None:
        key = self.key()
        results = self.race(Clock(), lambda s, i: s.claim(key, T0 + timedelta(seconds=i), HOUR))
        assert sum(c.owner for c in results) == 1
        assert sorted(c.count for c in results) == list(range(1, 9))

    def test_eight_racing_workers_reach_a_threshold_once(self) -> None:
        key = self.key()
        results = self.race(Clock(), lambda s, i: s.claim(key, T0, HOUR, 5))
        owners = [c for c in results if c.owner]
        assert len(owners) == 1 and owners[0].count == 5 and not owners[0].escalation
        assert sorted(c.count for c in results) == list(range(1, 9))

    # -- severity escalation ---------------------------------------------------------------------
    def test_higher_severity_is_published_once_as_an_escalation(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        first = store.claim(key, T0, HOUR, severity=INFO)
        store.confirm(first)
        high = store.claim(key, T0 + timedelta(minutes=5), HOUR, severity=HIGH)
        assert (high.owner, high.escalation, high.severity) == (True, True, HIGH)
        assert (high.window_start, high.count) == (T0, 2)
        store.confirm(high)
        later = [store.claim(key, T0 + timedelta(minutes=m), HOUR, severity=s)
                 for m, s in ((6, HIGH), (7, MEDIUM), (8, INFO))]
        assert [c.owner for c in later] == [False, False, False]
        assert [c.count for c in later] == [3, 4, 5]

    def test_equal_or_lower_severity_stays_deduplicated(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        store.confirm(store.claim(key, T0, HOUR, severity=MEDIUM))
        for s in (MEDIUM, LOW, INFO, MEDIUM):
            claim = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=s)
            assert not claim.owner and not claim.escalation

    def test_an_escalation_escalates_again(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        store.confirm(store.claim(key, T0, HOUR, severity=INFO))
        store.confirm(store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=MEDIUM))
        critical = store.claim(key, T0 + timedelta(minutes=2), HOUR, severity=CRITICAL)
        assert critical.owner and critical.escalation
        store.confirm(critical)
        assert not store.claim(key, T0 + timedelta(minutes=3), HOUR, severity=HIGH).owner

    def test_a_new_window_starts_from_no_severity(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        store.confirm(store.claim(key, T0, HOUR, severity=CRITICAL))
        reopened = store.claim(key, T0 + HOUR, HOUR, severity=INFO)
        assert (reopened.owner, reopened.escalation, reopened.window_start) == (True, False,
                                                                               T0 + HOUR)

    def test_failed_escalation_restores_the_published_severity_and_keeps_the_window(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        store.confirm(store.claim(key, T0, HOUR, severity=LOW))
        high = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=HIGH)
        store.release(high)  # the escalation's publish failed
        assert not store.claim(key, T0 + timedelta(minutes=2), HOUR, severity=LOW).owner
        retry = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=HIGH)
        assert (retry.owner, retry.escalation, retry.window_start, retry.count) == (
            True, True, T0, 4)
        store.confirm(retry)
        assert not store.claim(key, T0 + timedelta(minutes=3), HOUR, severity=HIGH).owner

    def test_failed_escalation_falls_back_to_a_lower_one_published_meanwhile(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        store.confirm(store.claim(key, T0, HOUR, severity=INFO))
        medium = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=MEDIUM)
        critical = store.claim(key, T0 + timedelta(minutes=2), HOUR, severity=CRITICAL)
        assert medium.owner and critical.owner and critical.escalation
        store.confirm(medium)  # published while CRITICAL was pending
        store.release(critical)
        assert not store.claim(key, T0 + timedelta(minutes=3), HOUR, severity=MEDIUM).owner
        assert store.claim(key, T0 + timedelta(minutes=3), HOUR, severity=HIGH).owner

    def test_escalation_while_the_first_finding_is_pending(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        first = store.claim(key, T0, HOUR, severity=INFO)
        high = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=HIGH)
        assert first.owner and high.owner and high.escalation
        store.confirm(first)
        store.release(high)  # the first finding was published: the window stays
        assert not store.claim(key, T0 + timedelta(minutes=2), HOUR, severity=INFO).owner
        assert store.claim(key, T0 + timedelta(minutes=2), HOUR, severity=HIGH).escalation

    def test_both_failing_reopens_the_window(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        first = store.claim(key, T0, HOUR, severity=INFO)
        high = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=HIGH)
        store.release(first)
        store.release(high)
        retry = store.claim(key, T0, HOUR, severity=INFO)
        assert (retry.owner, retry.escalation, retry.count) == (True, False, 1)

    def test_dead_escalation_is_dropped_and_escalated_again_by_its_retry(self) -> None:
        clock = Clock()
        store, key = self.make_store(clock), self.key()
        store.confirm(store.claim(key, T0, HOUR, severity=INFO))
        dead = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=HIGH)
        assert dead.owner  # and it dies: neither confirm nor release
        clock.now = T0 + LEASE + timedelta(seconds=1)
        assert not store.claim(key, T0 + timedelta(minutes=2), HOUR, severity=INFO).owner
        retry = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=HIGH)
        assert retry.owner and retry.escalation and retry.token != dead.token
        store.confirm(dead)  # the dead owner wakes up late: the retry's claim is untouched
        store.confirm(retry)
        assert not store.claim(key, T0 + timedelta(minutes=3), HOUR, severity=HIGH).owner

    def test_no_escalation_before_the_threshold_is_reached(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        claims = [store.claim(key, T0, HOUR, 3, severity=s) for s in (INFO, CRITICAL, LOW)]
        assert [(c.owner, c.escalation) for c in claims] == [(False, False), (False, False),
                                                             (True, False)]
        store.confirm(claims[2])
        assert not store.claim(key, T0, HOUR, 3, severity=LOW).owner
        assert store.claim(key, T0, HOUR, 3, severity=HIGH).escalation

    def test_eight_racing_escalations_publish_once(self) -> None:
        key = self.key()
        store = self.make_store(Clock())
        store.confirm(store.claim(key, T0, HOUR, severity=INFO))
        results = self.race(Clock(), lambda s, i: s.claim(key, T0, HOUR, severity=HIGH))
        assert sum(c.owner for c in results) == 1
        assert all(c.escalation == c.owner for c in results)

    # -- distinct counts -------------------------------------------------------------------------
    def test_distinct_values_reach_the_threshold_once(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        values = ["db-creds", "db-creds", "tls", "db-creds", "tls", "api-token", "ssh", "ssh"]
        claims = [store.claim(key, T0, HOUR, 3, distinct=v) for v in values]
        assert [c.owner for c in claims] == [False] * 5 + [True, False, False]
        assert [c.distinct for c in claims] == [1, 1, 2, 2, 2, 3, 3, 3]
        assert claims[5].count == 6

    def test_distinct_storage_is_capped_at_the_threshold(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        claims = [store.claim(key, T0, HOUR, 4, distinct=f"secret-{i}") for i in range(40)]
        assert sum(c.owner for c in claims) == 1
        assert max(c.distinct for c in claims) == 4 and claims[-1].count == 40

    def test_distinct_values_are_any_strings(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        odd = ["", "a,b", "\x00\n", "ü" * 2000]
        assert [store.claim(key, T0, HOUR, 4, distinct=v).owner for v in odd] == [
            False, False, False, True]

    def test_eight_racing_workers_reach_a_distinct_count_once(self) -> None:
        key = self.key()
        results = self.race(Clock(), lambda s, i: s.claim(key, T0, HOUR, 5, distinct=f"s{i}"))
        owners = [c for c in results if c.owner]
        assert len(owners) == 1 and owners[0].distinct == 5
        assert sorted(c.count for c in results) == list(range(1, 9))

    # -- extreme times -----------------------------------------------------------------------------
    def test_window_end_past_year_9999_is_clamped(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        late = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
        first = store.claim(key, late, HOUR)
        assert (first.owner, first.window_end) == (True, MAX_TIME)
        store.confirm(first)
        assert not store.claim(key, late + timedelta(minutes=20), HOUR).owner
        assert store.claim(key, MAX_TIME, HOUR).owner  # at the clamped end: a new window

    def test_events_at_year_1_open_and_count(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        first = store.claim(key, MIN_TIME, HOUR, severity=INFO)
        assert (first.window_start, first.window_end) == (MIN_TIME, MIN_TIME + HOUR)
        store.confirm(first)
        again = store.claim(key, MIN_TIME + timedelta(minutes=1), HOUR, severity=HIGH)
        assert (again.count, again.escalation) == (2, True)
        store.release(again)
