"""The Finding: one JSON document per published alert (also the message body every publisher
sends), built from a rule match and its dedup claim, and kept under the smallest service limit.

Every document says what it is in `kind`: "finding" (a rule matched), "rule_error" (a rule
raised on a record: see `build_rule_error_finding`), "escalation" (dedup, see DESIGN.md)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubetrail.dedup.base import Claim
from kubetrail.digest import sha256
from kubetrail.events import AuditEvent
from kubetrail.record import field, record, replace
from kubetrail.textsafe import escape_text

if TYPE_CHECKING:
    from kubetrail.rules.engine import Match, RuleError

# SNS's 256 KiB (262,144 bytes) covers body + subject + attributes: keep the body well under it.
MAX_DOCUMENT_BYTES = 240 * 1024
MAX_STRING_CHARS = 8 * 1024
MAX_LIST_ITEMS = 100
MAX_DEPTH = 32
MAX_JSON_INT = 2**63 - 1
TRUNCATION_MARKER = "…[kubetrail: truncated {} more]"

CONTEXT_FIELDS = (
    "username", "sourceIPs", "userAgent", "namespace", "verb", "resource",
    "requestURI", "responseStatus", "cluster", "name",
)


@record(frozen=True, slots=True)
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
    kind: str = "finding"
    # The audit event the finding was raised on, for renderings that need more of it than the
    # document holds (OCSF: groups, audit id, account); never serialized.
    event: AuditEvent | None = field(default=None, repr=False, compare=False)
    # (the document and its JSON as cap_document last wrote them: to_json's answer while the
    # finding still holds that very document; never serialized, never compared)
    encoding: tuple[Mapping[str, Any], bytes] | None = field(default=None, repr=False,
                                                             compare=False)

    def to_json(self) -> bytes:
        """The document as compact UTF-8 JSON, guaranteed under MAX_DOCUMENT_BYTES."""
        kept = self.encoding
        if kept is not None and kept[0] is self.document:
            return kept[1]
        import orjson  # (here, once per finding: a scan that finds nothing never imports it)

        return orjson.dumps(self.document)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def finding_id(dedup_key: str, window_start: datetime) -> str:
    """Stable per dedup window: a retried publish carries the same id, so subscribers can drop
    a duplicate delivery by id."""
    digest = sha256(f"{dedup_key}\x00{_iso(window_start)}".encode()).hexdigest()
    return digest[:32]


def escalation_id(first_id: str, severity: str) -> str:
    """Stable per (window, severity): the id of the escalation of the window whose first finding
    is `first_id` to `severity`, so a retried escalation carries the same id."""
    return sha256(f"{first_id}\x00escalation\x00{severity}".encode()).hexdigest()[:32]


def as_escalation(finding: Finding) -> Finding:
    """The finding of an escalation claim (dedup `Claim.escalation`): `kind` "escalation", its own
    id, and `escalates`, the id of the window's first finding."""
    first = finding.id
    doc, encoded = capped_and_encoded({**finding.document,
                                       "id": escalation_id(first, finding.severity),
                                       "kind": "escalation", "escalates": first})
    return replace(finding, id=doc["id"], document=doc, encoding=(doc, encoded))


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
    rule, event, extra = match.rule, match.event, match.overrides
    cluster = event.cluster or ""
    doc: dict[str, Any] = {
        "id": finding_id(claim.key, claim.window_start),
        "kind": "finding",
        "rule_id": rule.rule_id,
        "title": match.title,
        "severity": match.severity,
        "description": str(extra.get("description") or rule.description),
        "runbook": str(extra.get("runbook") or rule.runbook),
        "reference": str(extra.get("reference") or rule.reference),
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
    for key in ("destinations", "summary"):  # Panther rules' destinations(), SummaryAttributes
        if key in extra:
            doc[key] = extra[key]
    doc, encoded = capped_and_encoded(doc)
    return Finding(
        id=doc["id"], rule_id=rule.rule_id, title=doc["title"], severity=doc["severity"],
        cloud=event.cloud, cluster=cluster, document=doc, event=event, encoding=(doc, encoded),
    )


# A rule that raised in rule() left the record unexamined by it (an evasion, if an attacker can
# trigger it): HIGH. One that raised in an optional function still alerted, with defaults: LOW.
RULE_ERROR_SEVERITY = {"rule": "HIGH"}
RULE_ERROR_DEFAULT_SEVERITY = "LOW"


def rule_error_key(error: RuleError) -> str:
    """The dedup key of a rule_error: one per rule, function and error type. Rule matches use
    `<rule id>:<dedup string>`, so the `rule_error:` prefix keeps the two apart."""
    return f"rule_error:{error.rule_id}:{error.function}:{error.error_type}"


def build_rule_error_finding(
    error: RuleError, event: AuditEvent, claim: Claim, event_time: datetime, period_minutes: int
) -> Finding:
    """The `kind: "rule_error"` document for an owned claim on `rule_error_key(error)`: which
    rule and function raised what, on which record (origin and the record's context)."""
    severity = RULE_ERROR_SEVERITY.get(error.function, RULE_ERROR_DEFAULT_SEVERITY)
    error_type, message = escape_text(error.error_type), escape_text(error.message)
    doc: dict[str, Any] = {
        "id": finding_id(claim.key, claim.window_start),
        "kind": "rule_error",
        "rule_id": error.rule_id,
        "title": f"Rule {error.rule_id} raised {error_type} in {error.function}()",
        "severity": severity,
        "function": error.function,
        "error_type": error_type,
        "error_message": message,
        "origin": escape_text(str(error.origin)) if error.origin else None,
        "dedup_key": claim.key,
        "dedup_period_minutes": period_minutes,
        "cloud": event.cloud,
        "log_type": event.log_type,
        "cluster": event.cluster,
        "event_time": _iso(event_time),
        "first_seen": _iso(claim.window_start),
        "count": claim.count,
        "context": event_context(event),
    }
    doc, encoded = capped_and_encoded(doc)
    return Finding(
        id=doc["id"], rule_id=error.rule_id, title=doc["title"], severity=severity,
        cloud=event.cloud, cluster=event.cluster or "", document=doc, kind="rule_error",
        event=event, encoding=(doc, encoded),
    )


def _cap(value: Any, max_chars: int, max_items: int, depth: int = 0) -> Any:
    # The usual shapes first (plain dicts and lists of short strings, within every bound): the
    # same result as the general path below, without a call per short string.
    # None, booleans and floats are their own capped value too.
    kind = type(value)
    if kind is dict and depth < MAX_DEPTH and len(value) <= max_items:
        return {(k if type(k) is str and len(k) <= max_chars else _cap(_text(k), max_chars,
                                                                      max_items)):
                (v if (type(v) is str and len(v) <= max_chars) or type(v) in _KEPT
                 else _cap(v, max_chars, max_items, depth + 1))
                for k, v in value.items()}
    if kind is list and depth < MAX_DEPTH and len(value) <= max_items:
        return [v if (type(v) is str and len(v) <= max_chars) or type(v) in _KEPT
                else _cap(v, max_chars, max_items, depth + 1)
                for v in value]
    if isinstance(value, str):
        if len(value) > max_chars:
            return value[:max_chars] + TRUNCATION_MARKER.format(f"{len(value) - max_chars} chars")
        return value
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):  # JSON encoders stop at 64 bits: larger ones travel as text
        return value if -MAX_JSON_INT - 1 <= value <= MAX_JSON_INT else _cap(
            _text(value), max_chars, max_items, depth)
    if depth >= MAX_DEPTH and isinstance(value, Mapping | list | tuple):
        return TRUNCATION_MARKER.format(f"levels of nesting beyond {MAX_DEPTH}")
    if isinstance(value, Mapping):
        items = list(itertools.islice(value.items(), max_items + 1))
        out = {_cap(_text(k), max_chars, max_items): _cap(v, max_chars, max_items, depth + 1)
               for k, v in items[:max_items]}
        if len(items) > max_items:
            out["_truncated"] = TRUNCATION_MARKER.format(f"{len(value) - max_items} keys")
        return out
    if isinstance(value, list | tuple):
        out_list = [_cap(v, max_chars, max_items, depth + 1) for v in value[:max_items]]
        if len(value) > max_items:
            out_list.append(TRUNCATION_MARKER.format(f"{len(value) - max_items} items"))
        return out_list
    return _cap(_text(value), max_chars, max_items)


def _text(value: Any) -> str:
    """str() of a value a rule handed over; a broken or runaway __str__ costs only the value."""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        bits = value.bit_length()  # str() of a huge integer is slow, and refused past 4300 digits
        return f"<integer of {bits} bits>" if bits > 4096 else str(value)
    try:
        return str(value)
    except Exception:  # RecursionError, MemoryError, a raising __str__
        return f"<unprintable {type(value).__name__}>"


def cap_document(doc: dict[str, Any], limit: int = MAX_DOCUMENT_BYTES) -> dict[str, Any]:
    """Cut long strings and lists with a visible marker until the JSON fits `limit` bytes.
    Values are shortened, never dropped silently; the id and rule fields are never touched.
    Nesting deeper than MAX_DEPTH, integers beyond 64 bits and values that are not JSON are
    replaced by a marker or their text, so any document a rule can produce is encodable."""
    return capped_and_encoded(doc, limit)[0]


_KEPT = frozenset({type(None), bool, float})
_FIXED = frozenset({"id", "kind", "rule_id", "dedup_key", "cloud", "log_type", "count",
                    "severity"})


def capped_and_encoded(doc: dict[str, Any], limit: int = MAX_DOCUMENT_BYTES
                       ) -> tuple[dict[str, Any], bytes]:
    """`cap_document(doc, limit)` and its compact JSON (the encoding that measured it)."""
    import orjson

    max_chars, max_items = MAX_STRING_CHARS, MAX_LIST_ITEMS
    while True:
        # (a short string, most values, is its own capped value: no call for it)
        capped = {k: (v if k in _FIXED or (type(v) is str and len(v) <= max_chars)
                      else _cap(v, max_chars, max_items)) for k, v in doc.items()}
        encoded = orjson.dumps(capped)
        if len(encoded) <= limit or max_chars <= 64:
            return capped, encoded
        max_chars //= 4
        max_items = max(4, max_items // 4)
