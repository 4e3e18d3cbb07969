"""The Publisher port."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from kubetrail.findings import Finding
from kubetrail.record import record


@record(frozen=True, slots=True)
class PublishResult:
    """The fate of one finding: published (error None), or the service's reason it was not."""

    finding_id: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Publisher(Protocol):
    """Delivers findings to an alerting service."""

    def publish(self, findings: Sequence[Finding]) -> Sequence[PublishResult]:
        """Publish every finding (batched where the service allows); one result per finding, in
        order. Per-finding service errors are results; an unreachable service may raise."""
        ...
