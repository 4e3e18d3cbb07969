"""What a decoder yields per record: an AuditEvent, a Skip, a Prefiltered or a Failure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kubetrail.errors import Origin
from kubetrail.events import AuditEvent
from kubetrail.record import record

if TYPE_CHECKING:
    from kubetrail.rules.engine import Match, RuleError


@record(frozen=True, slots=True)
class Decoded:
    """A record that became an AuditEvent."""

    event: AuditEvent
    origin: Origin


@record(frozen=True, slots=True)
class Skip:
    """A record that is deliberately not an audit event. `reason` is one of SKIP_REASONS."""

    reason: str
    origin: Origin


@record(frozen=True, slots=True)
class Prefiltered:
    """`count` consecutive records no enabled rule can match, proven without fully decoding them
    (rules/prefilter); `origin` is the first one's. Runs keep the hot path free of per-record
    objects."""

    origin: Origin
    count: int = 1


@record(frozen=True, slots=True)
class Failure:
    """A record that could not be decoded. `raw` is what arrived (cut for very large records)
    so that dead-letter paths keep it."""

    reason: str
    origin: Origin
    raw: bytes = b""


Outcome = Decoded | Skip | Prefiltered | Failure


@record(frozen=True, slots=True)
class Evaluated:
    """A decoded record whose rules were already evaluated elsewhere (a `kubetrail scan --jobs`
    worker): its matches and rule errors, as RuleSet.evaluate returned them. `event` is None
    for a run of `count` consecutive decoded records that no rule matched and none raised on
    (nothing needs their events); `origin` is then the first one's."""

    origin: Origin
    event: AuditEvent | None = None
    matches: Sequence[Match] = ()
    errors: Sequence[RuleError] = ()
    count: int = 1


SKIP_REASONS = {
    "control-message": "CloudWatch Logs CONTROL_MESSAGE (subscription health check)",
    "non-audit-category": (
        "AKS diagnostic record of a category other than kube-audit/kube-audit-admin"
    ),
    "not-k8s-audit": "GCP LogEntry whose serviceName is not k8s.io (e.g. the GKE cluster API)",
    "empty": "blank line or empty envelope",
}
