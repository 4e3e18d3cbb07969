"""One batch in, one BatchReport out: decoded records → rules → dedup claims → publish.

Fault isolation is structural: the only calls whose errors leave `process` are the dedup store's
and the publisher's (as PublishError, after releasing every claim whose finding was not
published, so the platform's retry publishes each finding exactly once). Everything done to
examine one record (rules, derived event properties, window arithmetic, building the document)
runs inside `_examine`, and whatever it raises (RecursionError, OverflowError, MemoryError...;
not KeyboardInterrupt/SystemExit) becomes that record's Failure; the batch goes on. A decoder
that raises (instead of yielding a Failure) costs the record it was on, never the batch's label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

from kubetrail.dedup.base import Claim, DedupStore
from kubetrail.errors import ConfigError, KubetrailError, Origin, PublishError
from kubetrail.findings import (
    Finding,
    as_escalation,
    build_finding,
    build_rule_error_finding,
    rule_error_key,
)
from kubetrail.publish.base import Publisher
from kubetrail.report import BatchReport
from kubetrail.rules.engine import Match, RuleError, RuleSet, describe_error
from kubetrail.rules.loader import SEVERITIES, distinct_value, severity_rank
from kubetrail.sources.base import Decoded, Evaluated, Failure, Outcome, Prefiltered, Skip
from kubetrail.sources.guard import examining_failure

__all__ = ["BatchReport", "Pipeline"]

FLUSH_EVERY = 100
# A decoder that raises again and again without yielding is broken, not unlucky: stop reading it.
MAX_DECODER_ERRORS_IN_A_ROW = 100
# Dedup windows are computed in the stores as event time + period (window end) and + period
# again (expiry). Event times are clamped into a range where that arithmetic cannot overflow
# datetime's year 1..9999; the finding still carries the event's own time.
EARLIEST_WINDOW = datetime(1, 1, 2, tzinfo=UTC)
LATEST_WINDOW = datetime(9999, 12, 30, tzinfo=UTC)
MAX_PERIOD = timedelta(days=366 * 100)

Pending = list[tuple[Claim, Finding]]
_RANKS = {name: severity_rank(name) for name in SEVERITIES}


def _now() -> datetime:
    return datetime.now(UTC)


def as_utc(t: datetime) -> datetime:
    """`t` in UTC; a time whose conversion leaves year 1..9999 is clamped to the nearest end."""
    try:
        return t.astimezone(UTC)
    except (OverflowError, ValueError):
        return EARLIEST_WINDOW if t.year < 5000 else LATEST_WINDOW


class Pipeline:
    """Wires a RuleSet, a DedupStore and a Publisher. `on_finding`, `on_failure` and
    `on_rule_error` see each published finding, failed record and rule error as it passes;
    `keep_records=False` keeps the report's lists empty (flat memory for long scans)."""

    def __init__(
        self,
        rules: RuleSet,
        dedup: DedupStore,
        publisher: Publisher,
        *,
        clock: Callable[[], datetime] = _now,
        on_finding: Callable[[Finding], None] | None = None,
        on_failure: Callable[[Failure], None] | None = None,
        on_rule_error: Callable[[RuleError], None] | None = None,
        keep_records: bool = True,
    ) -> None:
        self.rules = rules
        self.dedup = dedup
        self.publisher = publisher
        self.clock = clock
        self.on_finding = on_finding
        self.on_failure = on_failure
        self.on_rule_error = on_rule_error
        self.keep_records = keep_records
        self._periods = {r.rule_id: r.dedup_period_minutes for r in rules.rules}
        self._bounds: dict[int, tuple[timedelta, datetime]] = {}

    def process(self, outcomes: Iterable[Outcome | Evaluated]) -> BatchReport:
        """Run every outcome through the rules; publish what dedup lets through. An Evaluated
        outcome's rules already ran: its matches and rule errors go on as a Decoded's would."""
        report = BatchReport(keep=self.keep_records)
        pending: Pending = []
        try:
            for outcome in self._guarded(outcomes, report):
                report.records += 1
                if isinstance(outcome, Decoded):
                    self._examine(outcome, report, pending)
                elif isinstance(outcome, Prefiltered):
                    report.prefiltered += outcome.count
                    report.records += outcome.count - 1
                elif isinstance(outcome, Skip):
                    report.skipped[outcome.reason] += 1
                elif isinstance(outcome, Failure):
                    self._fail(report, outcome)
                elif isinstance(outcome, Evaluated):
                    if outcome.event is None:
                        report.decoded += outcome.count
                        report.records += outcome.count - 1
                    else:
                        self._examine(Decoded(outcome.event, outcome.origin), report, pending,
                                      (outcome.matches, outcome.errors))
                if len(pending) >= FLUSH_EVERY:
                    self._flush(pending, report)
            self._flush(pending, report)
        except KubetrailError:
            self._release_all(pending)
            raise
        except Exception as exc:  # only store/publisher calls get here: treat as transient
            self._release_all(pending)
            raise PublishError(f"dedup/publish failed: {exc!r}") from exc
        if report.publish_errors:
            raise PublishError(
                f"{report.publish_failed} finding(s) not published, claims released: "
                + "; ".join(report.publish_errors[:5])
            )
        return report

    # -- fault isolation ------------------------------------------------------------------------

    def _guarded(self, outcomes: Iterable[Outcome | Evaluated], report: BatchReport
                 ) -> Iterator[Outcome | Evaluated]:
        """The outcomes; an exception from the decoders becomes the failure of the record they
        were on (after the last one they yielded), and reading goes on where it can (a chain of
        per-file generators moves on to the next file). Config errors still stop the batch."""
        iterator = iter(outcomes)
        last: Origin | None = None
        in_a_row = 0
        while True:
            try:
                outcome = next(iterator)
            except StopIteration:
                return
            except (ConfigError, PublishError, KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # whatever a record makes a decoder do
                in_a_row += 1
                report.records += 1
                origin = (Origin(last.source, f"after {last.position}") if last
                          else Origin("<input>", "before the first record"))
                self._fail(report, Failure(f"decoder error: {describe_error(exc)[1]}", origin))
                if in_a_row >= MAX_DECODER_ERRORS_IN_A_ROW:
                    return
                continue
            in_a_row = 0
            last = outcome.origin
            yield outcome

    def _examine(self, outcome: Decoded, report: BatchReport, pending: Pending,
                 evaluated: tuple[Sequence[Match], Sequence[RuleError]] | None = None) -> None:
        """Rules (unless `evaluated` brings their matches and errors), rule errors and claims for
        one decoded record. Store and publisher errors propagate (retry the batch); anything else
        the record raised is its failure."""
        try:
            matches, errors = evaluated if evaluated is not None else self.rules.evaluate(
                outcome.event, outcome.origin)
            for error in errors:
                self._rule_error(error, outcome, report, pending)
            for match in matches:
                report.matches += 1
                self._claim(match, report, pending)
        except _StoreError as exc:
            raise exc.cause  # noqa: B904 - the store's own error, as if not wrapped
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # whatever a record makes a rule or a builder do
            self._fail(report, examining_failure(outcome, exc))
            return
        report.decoded += 1
        report.matched_records += bool(matches)

    def _fail(self, report: BatchReport, failure: Failure) -> None:
        report.add_failure(failure)  # kept (raw bytes and all) only with keep_records
        if self.on_failure:
            self.on_failure(failure)

    # -- dedup and publish ----------------------------------------------------------------------

    def _store(self, call: Callable[..., Claim], *args: object) -> Claim:
        """A dedup store call: its errors are the batch's (retryable), never the record's."""
        try:
            return call(*args)
        except Exception as exc:
            raise _StoreError(exc) from exc

    def _window(self, event_time: datetime | None, minutes: int
                ) -> tuple[datetime, datetime, timedelta]:
        """(event time in UTC, the time its dedup window is computed from, the period)."""
        bounds = self._bounds.get(minutes)
        if bounds is None:  # once per period: the rules' own, a handful
            period = min(timedelta(minutes=min(minutes, 10**9)), MAX_PERIOD)
            bounds = self._bounds[minutes] = (period, LATEST_WINDOW - 2 * period)
        period, latest = bounds
        if event_time is not None and event_time.tzinfo is UTC \
                and EARLIEST_WINDOW <= event_time <= latest:  # the usual: its own anchor
            return event_time, event_time, period
        shown = as_utc(event_time or self.clock())
        return shown, max(EARLIEST_WINDOW, min(shown, latest)), period

    def _claim(self, match: Match, report: BatchReport, pending: Pending) -> None:
        rule, event = match.rule, match.event
        event_time, anchor, period = self._window(event.time, rule.dedup_period_minutes)
        distinct = None if rule.distinct is None else distinct_value(event, rule.distinct)
        rank = _RANKS.get(match.severity)
        if rank is None:
            rank = severity_rank(match.severity)
        try:  # the store's errors are the batch's (retryable), never the record's
            claim = self.dedup.claim(match.dedup_key, anchor, period, rule.threshold,
                                     severity=rank, distinct=distinct)
        except Exception as exc:
            raise _StoreError(exc) from exc
        if not claim.owner:
            report.deduplicated += 1
            return

        def build() -> Finding:
            finding = build_finding(match, claim, event_time)
            return as_escalation(finding) if claim.escalation else finding

        self._build(claim, pending, build)

    def _rule_error(self, error: RuleError, outcome: Decoded, report: BatchReport,
                    pending: Pending) -> None:
        """A rule raised: count it and publish a rule_error finding, deduplicated per rule,
        function and error type within the rule's dedup window."""
        report.add_rule_error(error)
        if self.on_rule_error:
            self.on_rule_error(error)
        minutes = self._periods.get(error.rule_id, 60)
        event_time, anchor, period = self._window(outcome.event.time, minutes)
        claim = self._store(self.dedup.claim, rule_error_key(error), anchor, period, 1)
        if not claim.owner:
            report.deduplicated += 1
            return
        self._build(claim, pending, lambda: build_rule_error_finding(
            error, outcome.event, claim, event_time, minutes))

    def _build(self, claim: Claim, pending: Pending, build: Callable[[], Finding]) -> None:
        """Build the finding of an owned claim; if building raises, release the claim first so
        that nothing stays claimed for a finding that was never published."""
        try:
            finding = build()
        except BaseException:
            self._store(self._release, claim)
            raise
        pending.append((claim, finding))

    def _release(self, claim: Claim) -> Claim:
        self.dedup.release(claim)
        return claim

    def _flush(self, pending: Pending, report: BatchReport) -> None:
        if not pending:
            return
        batch = list(pending)
        pending.clear()
        try:
            results = self.publisher.publish([f for _, f in batch])
        except Exception:
            self._release_all(batch)
            raise
        for (claim, finding), result in zip(batch, results, strict=True):
            if result.ok:
                self.dedup.confirm(claim)
                report.add_published(finding)
                if self.on_finding:
                    self.on_finding(finding)
            else:
                self.dedup.release(claim)
                report.add_publish_error(f"{finding.id}: {result.error}")

    def _release_all(self, pending: Pending) -> None:
        for claim, _ in pending:
            try:
                self.dedup.release(claim)
            except Exception:  # noqa: S112 - best effort; the lease lets a retry take over
                continue
        pending.clear()


class _StoreError(Exception):
    """Carries a dedup store error out of `_examine`, past the record-level isolation."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(repr(cause))
        self.cause = cause
