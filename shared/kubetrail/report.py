"""BatchReport: what happened to every record of a batch, in counters that stay small whatever
the batch holds; the records themselves only where a caller keeps them (`keep`)."""

from __future__ import annotations

from collections import Counter

from kubetrail.findings import Finding
from kubetrail.record import field, record
from kubetrail.rules.engine import RuleError
from kubetrail.sources.base import Failure

MAX_PUBLISH_ERRORS_KEPT = 20


@record
class BatchReport:
    """Counters of a batch: records = decoded + prefiltered + sum(skipped) + failed.

    A decoded record whose examination raised (not a rule: the pipeline around it) counts as
    failed, not decoded. `findings` counts every published document, `rule_error_findings` those
    of kind rule_error among them; `rule_error_count` counts the rule errors raised (published or
    deduplicated). With `keep` (the default, for batches the platform bounds: the cloud
    functions dead-letter `failures`), the lists hold the published findings, the failures (with
    their raw bytes) and the rule errors; without it (`kubetrail scan`) they stay empty and
    memory stays flat: callbacks see each item as it passes."""

    keep: bool = True
    records: int = 0
    decoded: int = 0
    prefiltered: int = 0
    matches: int = 0
    deduplicated: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    findings: int = 0
    rule_error_count: int = 0
    rule_error_findings: int = 0
    publish_failed: int = 0
    matched_records: int = 0
    published: list[Finding] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    rule_errors: list[RuleError] = field(default_factory=list)
    publish_errors: list[str] = field(default_factory=list)  # the first MAX_PUBLISH_ERRORS_KEPT

    @property
    def not_matched(self) -> int:
        """Records that were audit events and that no rule matched (prefiltered ones included)."""
        return self.decoded + self.prefiltered - self.matched_records

    def add_failure(self, failure: Failure) -> None:
        self.failed += 1
        if self.keep:
            self.failures.append(failure)

    def add_rule_error(self, error: RuleError) -> None:
        self.rule_error_count += 1
        if self.keep:
            self.rule_errors.append(error)

    def add_published(self, finding: Finding) -> None:
        self.findings += 1
        self.rule_error_findings += finding.kind == "rule_error"
        if self.keep:
            self.published.append(finding)

    def add_publish_error(self, message: str) -> None:
        self.publish_failed += 1
        if len(self.publish_errors) < MAX_PUBLISH_ERRORS_KEPT:
            self.publish_errors.append(message)

    def summary(self) -> str:
        """One line for logs and the CLI's stderr."""
        skipped = ",".join(f"{k}={v}" for k, v in sorted(self.skipped.items())) or "0"
        return (
            f"records={self.records} decoded={self.decoded} prefiltered={self.prefiltered} "
            f"matched={self.matched_records} not_matched={self.not_matched} "
            f"findings={self.findings} "
            f"deduplicated={self.deduplicated} skipped={skipped} failed={self.failed} "
            f"rule_errors={self.rule_error_count} rule_error_findings={self.rule_error_findings} "
            f"publish_errors={self.publish_failed}"
        )
