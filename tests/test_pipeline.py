"""Pipeline: dedup across and within batches, failures counted, claims released when publishing
fails so that the retry publishes each finding exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from kubetrail.dedup.sqlite import SqliteDedupStore
from kubetrail.errors import Origin, PublishError
from kubetrail.findings import Finding
from kubetrail.pipeline import Pipeline
from kubetrail.publish.base import PublishResult
from kubetrail.rules import RuleSet, load_rules
from kubetrail.sources.base import Decoded, Failure, Outcome, Prefiltered, Skip
from tests.factories import SEED_RULE, T0, make_event

RULES = RuleSet(load_rules([SEED_RULE]))
ORIGIN = Origin("test", "1")


class Collector:
    """A publisher that keeps what it receives and fails the first `fail` calls per finding id."""

    def __init__(self, fail_ids: set[str] | None = None, raise_once: bool = False) -> None:
        self.received: list[Finding] = []
        self.fail_ids = fail_ids or set()
        self.raise_once = raise_once

    def publish(self, findings: Sequence[Finding]) -> Sequence[PublishResult]:
        if self.raise_once:
            self.raise_once = False
            raise ConnectionError("service unreachable")
        out = []
        for f in findings:
            if f.id in self.fail_ids:
                self.fail_ids.discard(f.id)
                out.append(PublishResult(f.id, "InternalError"))
            else:
                self.received.append(f)
                out.append(PublishResult(f.id))
        return out


def ds(user: str = "alice@example.com", minutes: int = 0, **kw: object) -> Decoded:
    return Decoded(make_event(username=user, time=T0 + timedelta(minutes=minutes), **kw), ORIGIN)


def test_counts_every_kind_of_record() -> None:
    batch: list[Outcome] = [
        ds(), ds(minutes=5), ds("bob"), Decoded(make_event(verb="get"), ORIGIN),
        Prefiltered(ORIGIN), Skip("control-message", ORIGIN), Failure("broken JSON", ORIGIN, b"{"),
    ]
    pub = Collector()
    report = Pipeline(RULES, SqliteDedupStore(), pub).process(batch)
    assert (report.records, report.decoded, report.prefiltered) == (7, 4, 1)
    assert (report.matches, report.deduplicated, len(report.published)) == (3, 1, 2)
    assert report.skipped == {"control-message": 1} and report.failures[0].reason == "broken JSON"
    assert report.not_matched == 2
    assert [f.document["context"]["username"] for f in pub.received] == ["alice@example.com",
                                                                         "bob"]


def test_same_batch_twice_publishes_nothing_new_until_the_window_ends() -> None:
    store, pub = SqliteDedupStore(), Collector()
    pipe = Pipeline(RULES, store, pub)
    pipe.process([ds()])
    assert pipe.process([ds(minutes=59)]).deduplicated == 1
    report = pipe.process([ds(minutes=60)])
    assert len(report.published) == 1 and len(pub.received) == 2
    assert report.published[0].document["first_seen"] == "2026-11-27T13:00:00Z"


def test_failed_publish_is_released_and_the_retry_publishes_exactly_once() -> None:
    store = SqliteDedupStore()
    batch = [ds("alice"), ds("bob")]
    first = Pipeline(RULES, store, Collector()).process([batch[0]])  # learn alice's id
    alice_id = first.published[0].id
    store2, pub = SqliteDedupStore(), Collector(fail_ids={alice_id})
    pipe = Pipeline(RULES, store2, pub)
    with pytest.raises(PublishError, match="not published"):
        pipe.process(batch)
    assert [f.document["context"]["username"] for f in pub.received] == ["bob"]
    retry = pipe.process(batch)  # the platform re-delivers the whole batch
    assert [f.document["context"]["username"] for f in retry.published] == ["alice"]
    assert retry.deduplicated == 1
    assert sorted(f.document["context"]["username"] for f in pub.received) == ["alice", "bob"]


def test_unreachable_publisher_raises_and_releases_every_claim() -> None:
    store, pub = SqliteDedupStore(), Collector(raise_once=True)
    pipe = Pipeline(RULES, store, pub)
    with pytest.raises(PublishError, match="unreachable"):
        pipe.process([ds("alice"), ds("bob")])
    assert pub.received == []
    assert len(pipe.process([ds("alice"), ds("bob")]).published) == 2


def test_events_without_time_use_the_clock() -> None:
    pub = Collector()
    Pipeline(RULES, SqliteDedupStore(), pub, clock=lambda: T0).process(
        [Decoded(make_event(time=None), ORIGIN)])
    assert pub.received[0].document["event_time"] == "2026-11-27T12:00:00Z"
