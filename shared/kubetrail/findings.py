"""The Finding: one JSON document per published alert (also the message body every publisher
sends), built from a rule match and its dedup claim, and kept under the smallest service limit."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from kubetrail.dedup.base import Claim
from kubetrail.events import AuditEvent

if TYPE_CHECKING:
    from kubetrail.rules.engine import Match

# SNS's 256 KiB (262,144 bytes) covers body + subject + attributes: keep the body well under it.
MAX_DOCUMENT_BYTES = 240 * 1024
MAX_STRING_CHARS = 8 * 1024
MAX_LIST_ITEMS = 100
TRUNCATION_MARKER = "…[kubetrail: truncated {} more]"

CONTEXT_FIELDS = (
    "username", "sourceIPs", "userAgent", "namespace", "verb", "resource",
    "requestURI", "responseStatus", "cluster", "name",
)


@dataclass(frozen=True, slots=True)
class Finding:
    """A published alert. `document` is the JSON body; the other fields are what publishers use
    for message attributes, subjects and routing."""

    id: str
    rule_id: str
    title: str
    severity: str
    cloud: str
    cluster: str
    document: Mapping[str, Any]

    def to_json(self) -> bytes:
        """The document as compact UTF-8 JSON, guaranteed under MAX_DOCUMENT_BYTES."""
        return orjson.dumps(self.document)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def finding_id(dedup_key: str, window_start: datetime) -> str:
    """Stable per dedup window: a retried publish carries the same id, so subscribers can drop
    a duplicate delivery by id."""
    digest = hashlib.sha256(f"{dedup_key}\x00{_iso(window_start)}".encode()).hexdigest()
    return digest[:32]


def escalation_id(first_id: str, severity: str) -> str:
    """Stable per (window, severity): the id of the escalation of the window whose first finding
    is `first_id` to `severity`, so a retried escalation carries the same id."""
    return hashlib.sha256(f"{first_id}\x00escalation\x00{severity}".encode()).hexdigest()[:32]


def as_escalation(finding: Finding) -> Finding:
    """The finding of an escalation claim (dedup `Claim.escalation`): `kind` "escalation", its own
    id, and `escalates`, the id of the window's first finding."""
    first = finding.id
    doc = cap_document({**finding.document, "id": escalation_id(first, finding.severity),
                        "kind": "escalation", "escalates": first})
    return replace(finding, id=doc["id"], document=doc)


def event_context(event: AuditEvent) -> dict[str, Any]:
    """Exactly the seed rule's output fields, from the normalized event."""
    return {
        "username": event.username,
        "sourceIPs": list(event.source_ips),
        "userAgent": event.user_agent,
        "namespace": event.namespace,
        "verb": event.verb,
        "resource": event.resource,
        "requestURI": event.request_uri,
        "responseStatus": {"code": event.response_code},
        "cluster": event.cluster,
        "name": event.name,
    }


def build_finding(match: Match, claim: Claim, event_time: datetime) -> Finding:
    """Assemble the finding document for an owned claim."""
    rule, event = match.rule, match.event
    cluster = event.cluster or ""
    doc: dict[str, Any] = {
        "id": finding_id(claim.key, claim.window_start),
        "rule_id": rule.rule_id,
        "title": match.title,
        "severity": match.severity,
        "description": rule.description,
        "runbook": rule.runbook,
        "reference": rule.reference,
        "dedup_key": claim.key,
        "dedup_period_minutes": rule.dedup_period_minutes,
        "cloud": event.cloud,
        "log_type": event.log_type,
        "cluster": event.cluster,
        "event_time": _iso(event_time),
        "first_seen": _iso(claim.window_start),
        "count": claim.count,
        "mitre": [{"tactic": t, "technique": q} for t, q in rule.mitre],
        "tags": list(rule.tags),
        "context": event_context(event),
        "risk": dict(match.alert_context),
    }
    doc = cap_document(doc)
    return Finding(
        id=doc["id"], rule_id=rule.rule_id, title=doc["title"], severity=doc["severity"],
        cloud=event.cloud, cluster=cluster, document=doc,
    )


def _cap(value: Any, max_chars: int, max_items: int) -> Any:
    if isinstance(value, str):
        if len(value) > max_chars:
            return value[:max_chars] + TRUNCATION_MARKER.format(f"{len(value) - max_chars} chars")
        return value
    if isinstance(value, Mapping):
        items = list(value.items())
        out = {str(k)[:max_chars]: _cap(v, max_chars, max_items) for k, v in items[:max_items]}
        if len(items) > max_items:
            out["_truncated"] = TRUNCATION_MARKER.format(f"{len(items) - max_items} keys")
        return out
    if isinstance(value, list | tuple):
        out_list = [_cap(v, max_chars, max_items) for v in value[:max_items]]
        if len(value) > max_items:
            out_list.append(TRUNCATION_MARKER.format(f"{len(value) - max_items} items"))
        return out_list
    if value is None or isinstance(value, bool | int | float):
        return value
    return _cap(str(value), max_chars, max_items)


def cap_document(doc: dict[str, Any], limit: int = MAX_DOCUMENT_BYTES) -> dict[str, Any]:
    """Cut long strings and lists with a visible marker until the JSON fits `limit` bytes.
    Values are shortened, never dropped silently; the id and rule fields are never touched."""
    max_chars, max_items = MAX_STRING_CHARS, MAX_LIST_ITEMS
    fixed = {"id", "rule_id", "dedup_key", "cloud", "log_type", "count", "severity"}
    while True:
        capped = {k: (v if k in fixed else _cap(v, max_chars, max_items)) for k, v in doc.items()}
        if len(orjson.dumps(capped)) <= limit or max_chars <= 64:
            return capped
        max_chars //= 4
        max_items = max(4, max_items // 4)
