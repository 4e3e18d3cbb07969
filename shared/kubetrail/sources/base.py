"""What a decoder yields per record: an AuditEvent, a Skip, a Prefiltered or a Failure."""

from __future__ import annotations

from kubetrail.errors import Origin
from kubetrail.events import AuditEvent
from kubetrail.record import record


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

SKIP_REASONS = {
    "control-message": "CloudWatch Logs CONTROL_MESSAGE (subscription health check)",
    "non-audit-category": (
        "AKS diagnostic record of a category other than kube-audit/kube-audit-admin"
    ),
    "not-k8s-audit": "GCP LogEntry whose serviceName is not k8s.io (e.g. the GKE cluster API)",
    "empty": "blank line or empty envelope",
}
