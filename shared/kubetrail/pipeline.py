"""One batch in, one BatchReport out: decoded records → rules → dedup claims → publish.

The pipeline never raises for a bad record (it is counted as failed, with its reason). It raises
PublishError only when the dedup store or publisher failed, after releasing every claim whose
finding was not published, so the platform's retry publishes each finding exactly once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from kubetrail.dedup.base import Claim, DedupStore
from kubetrail.errors import KubetrailError, PublishError
from kubetrail.findings import Finding, as_escalation, build_finding
from kubetrail.publish.base import Publisher
from kubetrail.rules.engine import Match, RuleError, RuleSet
from kubetrail.rules.loader import distinct_value, severity_rank
from kubetrail.sources.base import Decoded, Failure, Outcome, Prefiltered, Skip

FLUSH_EVERY = 100


@dataclass
class BatchReport:
    """What happened to every record of a batch.

    records = decoded + prefiltered + sum(skipped) + len(failures)."""

    records: int = 0
    decoded: int = 0
    prefiltered: int = 0
    matches: int = 0
    published: list[Finding] = field(default_factory=list)
    deduplicated: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    rule_errors: list[RuleError] = field(default_factory=list)
    publish_errors: list[str] = field(default_factory=list)

    matched_records: int = 0

    @property
    def not_matched(self) -> int:
        """Records that were audit events and that no rule matched (prefiltered ones included)."""
        return self.decoded + self.prefiltered - self.matched_records

    def summary(self) -> str:
        """One line for logs and the CLI's stderr."""
        skipped = ",".join(f"{k}={v}" for k, v in sorted(self.skipped.items())) or "0"
        return (
            f"records={self.records} decoded={self.decoded} prefiltered={self.prefiltered} "
            f"matched={self.matched_records} not_matched={self.not_matched} "
            f"findings={len(self.published)} "
            f"deduplicated={self.deduplicated} skipped={skipped} failed={len(self.failures)} "
            f"rule_errors={len(self.rule_errors)} publish_errors={len(self.publish_errors)}"
        )


def _now() -> datetime:
    return datetime.now(UTC)


class Pipeline:
    """Wires a RuleSet, a DedupStore and a Publisher; `on_finding` sees each published finding."""

    def __init__(
        self,
        rules: RuleSet,
        dedup: DedupStore,
        publisher: Publisher,
        *,
        clock: Callable[[], datetime] = _now,
        on_finding: Callable[[Finding], None] | None = None,
    ) -> None:
        self.rules = rules
        self.dedup = dedup
        self.publisher = publisher
        self.clock = clock
        self.on_finding = on_finding

    def process(self, outcomes: Iterable[Outcome]) -> BatchReport:
        """Run every outcome through the rules; publish what dedup lets through."""
        report = BatchReport()
        pending: list[tuple[Claim, Finding]] = []
        try:
            for outcome in outcomes:
                report.records += 1
                if isinstance(outcome, Decoded):
                    report.decoded += 1
                    self._detect(outcome, report, pending)
                elif isinstance(outcome, Prefiltered):
                    report.prefiltered += outcome.count
                    report.records += outcome.count - 1
                elif isinstance(outcome, Skip):
                    report.skipped[outcome.reason] += 1
                elif isinstance(outcome, Failure):
                    report.failures.append(outcome)
                if len(pending) >= FLUSH_EVERY:
                    self._flush(pending, report)
            self._flush(pending, report)
        except KubetrailError:
            self._release_all(pending)
            raise
        except Exception as exc:  # an adapter leaked an SDK error: treat as transient
            self._release_all(pending)
            raise PublishError(f"dedup/publish failed: {exc!r}") from exc
        if report.publish_errors:
            raise PublishError(
                f"{len(report.publish_errors)} finding(s) not published, claims released: "
                + "; ".join(report.publish_errors[:5])
            )
        return report

    def _detect(self, outcome: Decoded, report: BatchReport, pending: list[tuple[Claim, Finding]]
                ) -> None:
        matches, errors = self.rules.evaluate(outcome.event, outcome.origin)
        report.rule_errors.extend(errors)
        report.matched_records += bool(matches)
        for match in matches:
            report.matches += 1
            self._claim(match, report, pending)

    def _claim(self, match: Match, report: BatchReport, pending: list[tuple[Claim, Finding]]
               ) -> None:
        event_time = match.event.time or self.clock()
        period = timedelta(minutes=match.rule.dedup_period_minutes)
        rule = match.rule
        distinct = None if rule.distinct is None else distinct_value(match.event, rule.distinct)
        claim = self.dedup.claim(match.dedup_key, event_time, period, rule.threshold,
                                 severity=severity_rank(match.severity), distinct=distinct)
        if not claim.owner:
            report.deduplicated += 1
            return
        finding = build_finding(match, claim, event_time)
        pending.append((claim, as_escalation(finding) if claim.escalation else finding))

    def _flush(self, pending: list[tuple[Claim, Finding]], report: BatchReport) -> None:
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
                report.published.append(finding)
                if self.on_finding:
                    self.on_finding(finding)
            else:
                self.dedup.release(claim)
                report.publish_errors.append(f"{finding.id}: {result.error}")

    def _release_all(self, pending: list[tuple[Claim, Finding]]) -> None:
        for claim, _ in pending:
            try:
                self.dedup.release(claim)
            except Exception:  # noqa: S112 - best effort; the lease lets a retry take over
                continue
        pending.clear()
