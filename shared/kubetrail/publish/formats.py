"""The document a finding is published as: kubetrail's own (findings.py) or an OCSF Detection
Finding (ocsf.py). A format wraps any Publisher, so SNS, Event Grid, Pub/Sub and stdout carry
either without knowing which."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kubetrail.errors import ConfigError
from kubetrail.findings import Finding, capped_and_encoded
from kubetrail.ocsf import ocsf_document
from kubetrail.publish.base import Publisher, PublishResult
from kubetrail.record import replace

FORMATS = ("kubetrail", "ocsf")


class OcsfPublisher:
    """Publishes each finding's OCSF rendering through `inner` (ids, severities and routing
    attributes unchanged; the body kept under the same size limit)."""

    def __init__(self, inner: Publisher) -> None:
        self.inner = inner

    def publish(self, findings: Sequence[Finding]) -> Sequence[PublishResult]:
        return self.inner.publish([as_ocsf(f) for f in findings])


def as_ocsf(finding: Finding) -> Finding:
    """The same finding with its OCSF document."""
    doc, encoded = capped_and_encoded(ocsf_document(finding.document, finding.event))
    return replace(finding, document=doc, encoding=(doc, encoded))


def finding_format(env: Mapping[str, str]) -> str:
    """KUBETRAIL_FINDING_FORMAT of a cloud function: `kubetrail` (default) or `ocsf`."""
    fmt = (env.get("KUBETRAIL_FINDING_FORMAT") or "kubetrail").strip().lower()
    if fmt not in FORMATS:
        raise ConfigError(f"KUBETRAIL_FINDING_FORMAT must be one of {', '.join(FORMATS)}, "
                          f"got {fmt[:40]!r}")
    return fmt


def with_format(publisher: Publisher, fmt: str) -> Publisher:
    """`publisher` publishing `fmt` documents (see `finding_format`)."""
    return OcsfPublisher(publisher) if fmt == "ocsf" else publisher
