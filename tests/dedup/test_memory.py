"""The in-memory store: the conformance suite (racing workers share one MemoryWindows), and the
same answers as the SQLite store (the pure transitions of kubetrail.dedup.window) on random
sequences of claims, confirms, releases and clock moves, window by window and claim by claim."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubetrail.dedup.base import Claim
from kubetrail.dedup.memory import MemoryDedupStore, MemoryWindows
from kubetrail.dedup.sqlite import SqliteDedupStore
from kubetrail.dedup.window import MAX_TIME, MIN_TIME, PRIOR, Window
from tests.dedup.conformance import LEASE, T0, Clock, DedupConformance


class TestMemoryDedupStore(DedupConformance):
    @pytest.fixture(autouse=True)
    def _windows(self) -> None:
        self.windows = MemoryWindows()

    def make_store(self, clock: Clock) -> MemoryDedupStore:
        return MemoryDedupStore(self.windows, lease=LEASE, clock=clock)


class Tokens:
    """Tokens differ between stores (random ids); their structure must not: each part of a
    token (`op|first|severity`) is replaced by the order in which this store first showed it."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, token: str) -> str:
        return PRIOR.join(str(self.seen.setdefault(p, len(self.seen)))
                          for p in token.split(PRIOR))

    def claim(self, c: Claim) -> tuple[Any, ...]:
        return (c.key, c.window_start, c.window_end, c.count, c.owner, self(c.token),
                c.severity, c.escalation, c.distinct_count)

    def window(self, w: Window | None) -> tuple[Any, ...] | None:
        if w is None:
            return None
        return (w.start, w.end, w.count, w.last_seen, w.state, self(w.token), w.lease_until,
                w.expires, w.severity, w.published, w.distinct)


STEP = st.one_of(
    # claim: key, minute of the event (some far out), period, threshold, severity, distinct
    st.tuples(st.just("claim"), st.sampled_from("ab"),
              st.one_of(st.integers(-30, 200), st.sampled_from([10**9, -(10**9)])),
              st.sampled_from([30, 60, 10**7]), st.integers(1, 4), st.integers(0, 4),
              st.one_of(st.none(), st.sampled_from(["x", "y", "z", "w", ""]))),
    # settle the i-th claim made so far (from the end), publish ok or failed
    st.tuples(st.sampled_from(["confirm", "release"]), st.integers(0, 6)),
    # move the wall clock (lease expiry)
    st.tuples(st.just("tick"), st.sampled_from([1, 4, 5, 6, 90])),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(STEP, max_size=50))
def test_same_claims_and_windows_as_the_sqlite_store(steps: list[tuple[Any, ...]]) -> None:
    clock = Clock()
    reference, fast = SqliteDedupStore(clock=clock, lease=LEASE), MemoryDedupStore(
        clock=clock, lease=LEASE)
    ref_tokens, fast_tokens = Tokens(), Tokens()
    made: list[tuple[Claim, Claim]] = []
    for step in steps:
        if step[0] == "claim":
            _, key, minute, period, threshold, severity, distinct = step
            when = min(max(T0 + timedelta(minutes=minute), MIN_TIME + timedelta(days=1)),
                       MAX_TIME - timedelta(days=1)) if abs(minute) < 10**8 else (
                MAX_TIME - timedelta(minutes=5) if minute > 0 else MIN_TIME)
            args = (key, when, timedelta(minutes=period), threshold)
            pair = (reference.claim(*args, severity=severity, distinct=distinct),
                    fast.claim(*args, severity=severity, distinct=distinct))
            assert ref_tokens.claim(pair[0]) == fast_tokens.claim(pair[1])
            made.append(pair)
        elif step[0] == "tick":
            clock.now += timedelta(minutes=step[1])
        elif made:
            ref_claim, fast_claim = made[-1 - step[1] % len(made)]
            getattr(reference, step[0])(ref_claim)
            getattr(fast, step[0])(fast_claim)
        for key in "ab":
            assert ref_tokens.window(reference._read(key)[0]) == fast_tokens.window(
                fast._read(key)[0])


def test_stores_over_separate_windows_do_not_share() -> None:
    clock = Clock()
    one, other = MemoryDedupStore(clock=clock), MemoryDedupStore(clock=clock)
    assert one.claim("k", T0, timedelta(hours=1)).owner
    assert other.claim("k", T0, timedelta(hours=1)).owner
    assert not one.claim("k", T0, timedelta(hours=1)).owner
