"""The record Panther stores for a delivered audit record, built from `AuditEvent.raw` (only when a
Panther rule looks at the event).

Per log type the record is what Panther's own log schema holds: the EKS audit Event
(Amazon.EKS.Audit), the AKS diagnostic record with `properties.log` left as its JSON string
(Azure.MonitorActivity), the Cloud Logging LogEntry (GCP.AuditLog). Panther's fields are added:
p_log_type, p_source_label (the cluster), p_event_time (the event's time), p_parse_time (now),
p_any_ip_addresses (the event's valid source IPs), times as Panther writes them
(`2006-01-02 15:04:05.000000`, UTC).

A delivered record cannot bring its own `p_` fields, in any case (they are Panther's, never the
source's) and,
in an audit Event, a key that only differs in case from one of the Event's fields the normalizer
reads (e.g. `ObjectRef` beside or instead of `objectRef`) is dropped: kubetrail reads the API
server's spelling, and so must the case-insensitive view, or the two could disagree on what a
crafted record says. A record that already has p_log_type (a Panther-shaped log: a rule's test,
an export from Panther) keeps its own p_ fields.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from kubetrail.events import AuditEvent

# Audit Event fields (top level, and objectRef) whose look-alike spellings are dropped.
_EVENT_KEYS = frozenset({
    "kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user",
    "impersonatedUser", "sourceIPs", "userAgent", "objectRef", "responseStatus", "requestObject",
    "responseObject", "requestReceivedTimestamp", "stageTimestamp", "annotations", "timestamp",
})
_OBJECT_REF_KEYS = frozenset({"resource", "namespace", "name", "uid", "apiGroup", "apiVersion",
                              "resourceVersion", "subresource"})
_FOLDED_EVENT = {k.casefold(): k for k in _EVENT_KEYS}
# Keys a record may hold without any look-alike check (the usual case: a set comparison).
_P_KEYS = ("p_log_type", "p_source_label", "p_event_time", "p_parse_time", "p_any_ip_addresses")
_EVENT_KEYS_P = _EVENT_KEYS | set(_P_KEYS)
_FOLDED_REF = {k.casefold(): k for k in _OBJECT_REF_KEYS}


def panther_time(t: datetime) -> str:
    """Panther's timestamp format, UTC."""
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _without_lookalikes(obj: Mapping[str, Any], folded: Mapping[str, str]) -> dict[str, Any]:
    return {k: v for k, v in obj.items()
            if not (isinstance(k, str) and folded.get(k.casefold(), k) != k)}


def canonical_event(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An audit Event without look-alikes of its fields (top level and objectRef)."""
    out = dict(obj) if obj.keys() <= _EVENT_KEYS_P else _without_lookalikes(obj, _FOLDED_EVENT)
    ref = out.get("objectRef")
    if isinstance(ref, Mapping) and not ref.keys() <= _OBJECT_REF_KEYS:
        out["objectRef"] = _without_lookalikes(ref, _FOLDED_REF)
    return out


@lru_cache(maxsize=4096)
def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def ip_addresses(values: tuple[str, ...]) -> list[str]:
    """The valid IP addresses among `values`, each once, in order."""
    out: list[str] = []
    for value in values:
        ip = _ip(value)
        if ip is not None and ip not in out:
            out.append(ip)
    return out


def _is_p_field(key: Any) -> bool:
    """Panther's fields, in any case (the view would find `P_ENRICHMENT` for `p_enrichment`)."""
    return isinstance(key, str) and key[:2].casefold() == "p_"


def panther_record(event: AuditEvent, now: datetime | None = None) -> Mapping[str, Any]:
    """The record a Panther rule sees for `event`."""
    raw = event.raw
    eks = event.log_type == "Amazon.EKS.Audit"
    if "p_log_type" in raw:  # a Panther-shaped log (a rule test, an export): its own p_ fields
        return canonical_event(raw) if eks else raw
    if eks:
        record = canonical_event(raw)
        p_keys = _P_KEYS if raw.keys() <= _EVENT_KEYS_P else [k for k in record if _is_p_field(k)]
        for key in p_keys:
            record.pop(key, None)
    else:
        record = {k: v for k, v in raw.items() if not _is_p_field(k)}
    record["p_log_type"] = event.log_type
    if event.cluster is not None:
        record["p_source_label"] = event.cluster
    if event.time is not None:
        record["p_event_time"] = panther_time(event.time)
    record["p_parse_time"] = panther_time(now or datetime.now(UTC))
    if ips := ip_addresses(event.source_ips):
        record["p_any_ip_addresses"] = ips
    return record
