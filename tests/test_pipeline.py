"""Pipeline: dedup across and within batches, failures counted, claims released when publishing
fails so that the retry publishes each finding exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from kubetrail.dedup.sqlite import SqliteDedupStore
from kubetrail.errors import Origin, PublishError
from kubetrail.findings import Finding
from kubetrail.pipeline import Pipeline
from kubetrail.publish.base import PublishResult
from kubetrail.rules import RuleSet, load_rules
from kubetrail.sources.base import Decoded, Failure, Outcome, Prefiltered, Skip
from kubetrail.sources.detect import decode_line
from tests.factories import SEED_RULE, T0, make_event
from tests.rules.test_loader_engine import write_rule

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


# -- fault isolation (issue 9) -------------------------------------------------------------------

DS_LINE = (b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete",'
           b'"verb":"create","user":{"username":"USER"},"objectRef":{"resource":"daemonsets",'
           b'"namespace":"default","name":"x"},"responseStatus":{"code":201},'
           b'"stageTimestamp":"2026-11-27T10:00:00.000000Z"')


class PerLine:
    """Decodes one JSON line per next() with the real line decoder, the way a record-at-a-time
    source does: whatever decoding a line raises surfaces from next(), and the next call goes on
    with the next line."""

    def __init__(self, lines: list[bytes]) -> None:
        self.lines = iter(enumerate(lines, 1))
        self.ready: list[Outcome] = []

    def __iter__(self) -> PerLine:
        return self

    def __next__(self) -> Outcome:
        while not self.ready:
            i, line = next(self.lines)
            self.ready = list(decode_line(line, Origin("delivery", str(i)), RULES.prefilter))
        return self.ready.pop(0)


def test_a_deeply_nested_record_fails_alone_and_its_batch_mates_are_published() -> None:
    depth = 5000  # deeper than the interpreter's recursion limit
    poison = (DS_LINE.replace(b"USER", b"deep") + b',"requestObject":' + b'{"a":' * depth
              + b"1" + b"}" * depth + b"}")
    pub = Collector()
    report = Pipeline(RULES, SqliteDedupStore(), pub).process(
        PerLine([DS_LINE.replace(b"USER", b"first") + b"}", poison,
                 DS_LINE.replace(b"USER", b"last") + b"}"]))
    assert [f.document["context"]["username"] for f in pub.received] == ["first", "last"]
    assert report.failed == 1 and report.records == 3 and report.decoded == 2
    (failure,) = report.failures
    # A decoder that raised is named as such, after the last record it yielded; one that
    # reports the record itself says so at the record's own position.
    assert failure.origin in {Origin("delivery", "after 1"), Origin("delivery", "2")}
    assert "publish" not in failure.reason
    assert "ecursion" in failure.reason or "depth" in failure.reason


@pytest.mark.parametrize("when", [
    datetime.max.replace(tzinfo=UTC),                       # window end past year 9999
    datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
    datetime.min.replace(tzinfo=UTC),
    datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=5))),  # before year 1 in UTC
])
def test_event_times_at_the_ends_of_the_calendar_are_detected_and_published(when: datetime
                                                                            ) -> None:
    pub = Collector()
    report = Pipeline(RULES, SqliteDedupStore(), pub).process(
        [Decoded(make_event(username="edge", time=when), ORIGIN), ds("good")])
    assert [f.document["context"]["username"] for f in pub.received] == ["edge", "good"]
    assert report.failed == 0 and report.findings == 2
    assert pub.received[0].document["event_time"][:4] in {"0001", "9999"}


def test_a_record_that_makes_a_rule_raise_a_base_exception_fails_alone(tmp_path: Path) -> None:
    write_rule(tmp_path, "Exit", "def rule(e):\n    if e.username == 'poison':\n"
                                 "        raise GeneratorExit('rules are not generators')\n"
                                 "    return False\n")
    rules = RuleSet([*load_rules(), *load_rules([tmp_path])])
    pub = Collector()
    report = Pipeline(rules, SqliteDedupStore(), pub).process([ds("poison"), ds("good")])
    assert [f.document["context"]["username"] for f in pub.received] == ["good"]
    assert report.failed == 1 and "GeneratorExit" in report.failures[0].reason
    assert report.records == report.decoded + report.failed == 2
    assert orjson.loads(report.failures[0].raw) == {}  # the record as delivered (factory: {})


def test_a_raising_rule_publishes_one_rule_error_per_window_and_the_others_still_match(
        tmp_path: Path) -> None:
    write_rule(tmp_path, "Boom", "def rule(e):\n    return e.request_object['spec'] is None\n")
    rules = RuleSet([*load_rules(), *load_rules([tmp_path])])
    pub = Collector()
    report = Pipeline(rules, SqliteDedupStore(), pub).process(
        [ds("alice"), ds("bob", minutes=1), ds("carol", minutes=31)])
    kinds = [(f.kind, f.document["kind"], f.rule_id) for f in pub.received]
    assert kinds.count(("finding", "finding", "Kubernetes.DaemonSet.Created")) == 3
    errors = [f.document for f in pub.received if f.kind == "rule_error"]
    assert len(errors) == 2  # alice opens the 30-minute window, bob is in it, carol is after it
    doc = errors[0]
    assert (doc["rule_id"], doc["function"], doc["error_type"]) == ("Boom", "rule", "TypeError")
    assert doc["error_message"].startswith("TypeError: 'NoneType' object is not subscriptable")
    assert doc["severity"] == "HIGH" and doc["origin"] == "test:1"
    assert doc["context"]["username"] == "alice" and doc["event_time"] == "2026-11-27T12:00:00Z"
    assert report.rule_error_count == 3 and report.rule_error_findings == 2
    assert report.findings == 5 and report.deduplicated == 1 and report.failed == 0


def test_scan_style_report_keeps_counters_only() -> None:
    seen: list[Failure] = []
    report = Pipeline(RULES, SqliteDedupStore(), Collector(), keep_records=False,
                      on_failure=seen.append).process(
        [ds(), Failure("broken JSON", ORIGIN, b"{" * 1000)])
    assert (report.findings, report.failed) == (1, 1)
    assert report.published == [] and report.failures == [] and len(seen) == 1


def test_a_store_error_is_still_the_batchs_retryable_error() -> None:
    store = SqliteDedupStore()
    store.close()
    # The store names its own failure (a PublishError already); others are wrapped as
    # "dedup/publish failed". Either way the batch is handed back for a retry.
    with pytest.raises(PublishError, match=r"closed database|dedup/publish failed"):
        Pipeline(RULES, store, Collector()).process([ds()])


def test_a_failing_optional_function_keeps_the_alert_and_adds_a_low_rule_error(tmp_path: Path
                                                                               ) -> None:
    write_rule(tmp_path, "T", "def rule(e):\n    return True\n"
                              "def title(e):\n    return e.request_object['name']\n")
    pub = Collector()
    report = Pipeline(RuleSet(load_rules([tmp_path])), SqliteDedupStore(), pub).process([ds()])
    alert, error = sorted(pub.received, key=lambda f: f.kind)
    assert (alert.kind, alert.title, alert.rule_id) == ("finding", "T", "T")  # DisplayName
    assert (error.kind, error.severity, error.document["function"]) == ("rule_error", "LOW",
                                                                        "title")
    assert report.findings == 2 and report.rule_error_findings == 1


class _Recording(SqliteDedupStore):
    """The times and periods the pipeline claims with."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[datetime, timedelta]] = []

    def claim(self, key: str, event_time: datetime, period: timedelta, threshold: int = 1, *,
              severity: int = 0, distinct: str | None = None):  # type: ignore[no-untyped-def]
        self.asked.append((event_time, period))
        return super().claim(key, event_time, period, threshold, severity=severity,
                             distinct=distinct)


@pytest.mark.parametrize("when", [
    T0, None, T0.astimezone(timezone(timedelta(hours=-3))),
    datetime(1, 1, 2, tzinfo=UTC), datetime(1, 1, 2, tzinfo=UTC) - timedelta(microseconds=1),
    datetime(9999, 12, 30, tzinfo=UTC) - timedelta(hours=2),
    datetime(9999, 12, 30, tzinfo=UTC) - timedelta(hours=2) + timedelta(microseconds=1),
    datetime(9999, 12, 30, tzinfo=UTC) - timedelta(hours=2) - timedelta(microseconds=1),
])
def test_a_match_claims_in_the_window_its_event_time_gives(when: datetime | None) -> None:
    store, pub = _Recording(), Collector()
    pipeline = Pipeline(RULES, store, pub, clock=lambda: T0)
    pipeline.process([Decoded(make_event(username="first", time=T0), ORIGIN),
                      Decoded(make_event(username="w", time=when), ORIGIN)])
    shown, anchor, period = pipeline._window(when, 60)
    assert store.asked[1:] == [(anchor, period)]
    assert store.asked[1][0].tzinfo is UTC
    assert pub.received[1].document["event_time"] == shown.isoformat().replace("+00:00", "Z")
