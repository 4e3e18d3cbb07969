"""The DedupStore contract, run against every adapter (SQLite here; DynamoDB on moto, Table
Storage on Azurite, Firestore on its emulator in their own test modules).

Subclass `DedupConformance` and implement `make_store(clock)`: a *new* store (new client or
connection) over the *same* backing table each call, with `lease=LEASE` and the given clock, so
the race test really races separate clients. Use a unique table/collection per test class."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kubetrail.dedup.base import Claim
from kubetrail.dedup.window import MAX_DISTINCT, MAX_TIME, MIN_TIME, Window, distinct_hash

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
        assert (retry.owner, retry.escalation, retry.window_start) == (True, False, T0)
        assert retry.count == 2  # the window and its count stay
        store.confirm(retry)
        assert not store.claim(key, T0, HOUR).owner

    def test_a_failed_threshold_publish_is_retried_by_the_next_match(self) -> None:
        """The threshold was reached over earlier batches: the retry of the last batch alone
        must still publish."""
        store, key = self.make_store(Clock()), self.key()
        claims = [store.claim(key, T0 + timedelta(minutes=i), HOUR, 3) for i in range(3)]
        assert [c.owner for c in claims] == [False, False, True]
        store.release(claims[2])
        retry = store.claim(key, T0 + timedelta(minutes=2), HOUR, 3)
        assert (retry.owner, retry.escalation, retry.count) == (True, False, 4)

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

    def test_eight_racing_workers_count_every_match_exactly_once(self) -> None:
        """In-order and late matches racing (stores may count them by different paths): every
        claim sees its own count, none is lost."""
        store, key = self.make_store(Clock()), self.key()
        store.confirm(store.claim(key, T0 + timedelta(minutes=30), HOUR))

        def work(s: Any, i: int) -> Claim:
            claims = [s.claim(key, T0 + timedelta(minutes=30 + (j if i % 2 else -j)), HOUR)
                      for j in range(1, 6)]
            assert not any(c.owner for c in claims)
            counts.extend(c.count for c in claims)
            return claims[-1]

        counts: list[int] = []
        self.race(Clock(), work)
        assert sorted(counts) == list(range(2, 42))

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

    def test_both_failing_lets_the_retries_publish_finding_then_escalation(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        first = store.claim(key, T0, HOUR, severity=INFO)
        high = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=HIGH)
        store.release(first)
        store.release(high)
        retry = store.claim(key, T0, HOUR, severity=INFO)
        assert (retry.owner, retry.escalation, retry.count) == (True, False, 3)
        store.confirm(retry)
        assert store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=HIGH).escalation

    def test_a_failed_escalation_hands_the_slot_back_to_a_first_finding_in_flight(self) -> None:
        """The first owner is still publishing when a higher match escalates and that escalation's
        publish fails: the slot goes back to the first owner, so a third match cannot publish a
        second first finding (the racing test found this one)."""
        store, key = self.make_store(Clock()), self.key()
        first = store.claim(key, T0, HOUR, severity=LOW)
        high = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=HIGH)
        assert first.owner and high.owner and high.escalation
        store.release(high)
        third = store.claim(key, T0 + timedelta(minutes=2), HOUR, severity=INFO)
        assert not third.owner  # the first finding is the first owner's to publish
        store.confirm(first)
        retry = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=HIGH)
        assert retry.owner and retry.escalation  # the escalation's retry still goes out

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

    def test_late_confirm_of_a_dropped_escalation_counts_as_published(self) -> None:
        clock = Clock()
        store, key = self.make_store(clock), self.key()
        store.confirm(store.claim(key, T0, HOUR, severity=INFO))
        dead = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=HIGH)
        clock.now = T0 + LEASE + timedelta(seconds=1)
        assert not store.claim(key, T0 + timedelta(minutes=2), HOUR, severity=INFO).owner
        store.confirm(dead)  # it did publish, only late: HIGH is what subscribers have seen
        assert not store.claim(key, T0 + timedelta(minutes=3), HOUR, severity=MEDIUM).owner
        assert store.claim(key, T0 + timedelta(minutes=3), HOUR, severity=CRITICAL).escalation

    def test_late_confirm_of_a_first_finding_whose_takeover_failed(self) -> None:
        clock = Clock()
        store, key = self.make_store(clock), self.key()
        slow = store.claim(key, T0, HOUR, severity=LOW)
        clock.now = T0 + LEASE + timedelta(seconds=1)
        taken = store.claim(key, T0 + timedelta(minutes=1), HOUR, severity=LOW)
        assert taken.owner and not taken.escalation
        store.release(taken)  # the taker's publish fails ...
        store.confirm(slow)  # ... while the slow first owner's went out after all
        assert not store.claim(key, T0 + timedelta(minutes=2), HOUR, severity=LOW).owner
        assert store.claim(key, T0 + timedelta(minutes=2), HOUR, severity=HIGH).escalation

    def test_no_escalation_before_the_threshold_is_reached(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        claims = [store.claim(key, T0, HOUR, 3, severity=s) for s in (INFO, CRITICAL, LOW)]
        assert [(c.owner, c.escalation) for c in claims] == [(False, False), (False, False),
                                                             (True, False)]
        store.confirm(claims[2])
        assert not store.claim(key, T0, HOUR, 3, severity=LOW).owner
        assert store.claim(key, T0, HOUR, 3, severity=HIGH).escalation

    def test_racing_matches_with_failing_publishes_hide_nothing(self) -> None:
        """8 workers, 6 matches each at random severities in one window; a third of the publishes
        fail and are retried (the batch's redelivery). In the end the window published something
        at least as severe as every match, and at most one first finding (none only when it failed
        while a higher escalation of the window went out: docs/dedup.md)."""
        key, confirmed, severities = self.key(), [], []

        def work(store: Any, i: int) -> Claim:
            rng = random.Random(i)
            last: Claim | None = None
            for _ in range(6):
                minute, severity = rng.randint(0, 50), rng.randint(INFO, CRITICAL)
                severities.append(severity)
                while True:
                    last = store.claim(key, T0 + timedelta(minutes=minute), HOUR,
                                       severity=severity)
                    if not last.owner:
                        break
                    if rng.random() < 0.33:
                        store.release(last)  # publish failed: the batch is retried
                        continue
                    store.confirm(last)
                    confirmed.append((last.escalation, last.severity))
                    break
            assert last is not None
            return last

        self.race(Clock(), work)
        firsts = [s for e, s in confirmed if not e]
        assert len(firsts) <= 1, confirmed
        assert max(s for _, s in confirmed) == max(severities)
        assert firsts or max(s for _, s in confirmed) > INFO

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
        assert [c.distinct_count for c in claims] == [1, 1, 2, 2, 2, 3, 3, 3]
        assert claims[5].count == 6

    def test_distinct_storage_is_capped_at_the_threshold(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        claims = [store.claim(key, T0, HOUR, 4, distinct=f"secret-{i}") for i in range(40)]
        assert sum(c.owner for c in claims) == 1
        assert max(c.distinct_count for c in claims) == 4 and claims[-1].count == 40

    def test_distinct_values_are_any_strings(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        odd = ["", "a,b", "\x00\n", "ü" * 2000]
        assert [store.claim(key, T0, HOUR, 4, distinct=v).owner for v in odd] == [
            False, False, False, True]

    def test_a_window_at_the_distinct_cap_fits_the_store(self) -> None:
        """The largest window a distinct rule can make (MAX_DISTINCT hashes) is accepted by the
        store's item size limits and read back whole; one more value is not stored."""
        store, key = self.make_store(Clock()), self.key()
        full = Window(key=key, start=T0, end=T0 + HOUR, count=MAX_DISTINCT, last_seen=T0,
                      state="published", token="t", lease_until=T0, expires=T0 + 2 * HOUR,
                      severity=INFO, published=INFO, op="o",
                      distinct=tuple(distinct_hash(f"secret-{i}") for i in range(MAX_DISTINCT)))
        assert store._put(key, full, None)
        claim = store.claim(key, T0, HOUR, MAX_DISTINCT, distinct="one more")
        assert (claim.owner, claim.distinct_count, claim.count) == (False, MAX_DISTINCT,
                                                              MAX_DISTINCT + 1)

    def test_eight_racing_workers_reach_a_distinct_count_once(self) -> None:
        key = self.key()
        results = self.race(Clock(), lambda s, i: s.claim(key, T0, HOUR, 5, distinct=f"s{i}"))
        owners = [c for c in results if c.owner]
        assert len(owners) == 1 and owners[0].distinct_count == 5
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
