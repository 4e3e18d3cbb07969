"""Property tests of the window transitions (kubetrail.dedup.window) through the SQLite store:
random sequences of matches — any event time order, any severity, publishes that succeed or
fail — keep the promises of docs/dedup.md."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kubetrail.dedup.sqlite import SqliteDedupStore
from tests.dedup.conformance import HOUR, T0, Clock

# (minute of the event, severity rank, does its publish succeed, distinct value)
MATCHES = st.lists(st.tuples(st.integers(0, 150), st.integers(0, 4), st.booleans(),
                             st.sampled_from("abcdef")), max_size=40)


@settings(max_examples=150, deadline=None)
@given(MATCHES)
def test_no_match_is_hidden_and_no_publication_repeats(matches: list[tuple[int, int, bool, str]]
                                                       ) -> None:
    store = SqliteDedupStore(clock=Clock())
    confirmed: dict[object, list[tuple[bool, int]]] = {}  # window start → (escalation, severity)
    for minute, severity, ok, _ in matches:
        claim = store.claim("k", T0 + timedelta(minutes=minute), HOUR, severity=severity)
        published = confirmed.setdefault(claim.window_start, [])
        if not claim.owner:
            # never hidden: a deduplicated match is no higher than what its window published
            assert published and severity <= max(s for _, s in published)
            continue
        assert claim.escalation == bool(published)  # the first publication is the finding
        assert not published or severity > max(s for _, s in published)
        if ok:
            store.confirm(claim)
            published.append((claim.escalation, severity))
        else:
            store.release(claim)
    for published in confirmed.values():
        severities = [s for _, s in published]
        assert severities == sorted(set(severities))  # each (window, severity) at most once


@settings(max_examples=100, deadline=None)
@given(MATCHES, st.integers(2, 5))
def test_distinct_windows_publish_at_the_threshold_and_store_no_more(
        matches: list[tuple[int, int, bool, str]], threshold: int) -> None:
    store = SqliteDedupStore(clock=Clock())
    seen: dict[object, set[str]] = {}
    for minute, _, _, value in sorted(matches):  # in order: windows follow one another
        claim = store.claim("k", T0 + timedelta(minutes=minute), HOUR, threshold,
                            distinct=value)
        values = seen.setdefault(claim.window_start, set())
        new = value not in values
        values.add(value)
        assert claim.distinct_count == min(len(values), threshold)
        assert claim.owner == (new and len(values) == threshold)
        if claim.owner:
            store.confirm(claim)
