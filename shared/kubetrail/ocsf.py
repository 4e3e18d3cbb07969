"""Findings as OCSF Detection Findings (class 2004, category Findings), version 1.5.0.

`ocsf_document` maps kubetrail's finding document (see findings.py) — and, when it is at hand,
the AuditEvent the finding was raised on — to an OCSF event. Everything kubetrail knows that OCSF
has no attribute for stays in `unmapped`, so nothing is lost in the conversion. Escalations are
OCSF updates (activity Update) of the first finding of their window: their `finding_info.uid` is
the first finding's id and their own id is `metadata.uid`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubetrail import __version__
from kubetrail.events import AuditEvent
from kubetrail.ocsf_attack import attack

OCSF_VERSION = "1.5.0"
CLASS_UID, CATEGORY_UID = 2004, 2
ACTIVITY_CREATE, ACTIVITY_UPDATE = 1, 2
SEVERITY_IDS = {"INFO": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}
SEVERITY_NAMES = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
PROVIDERS = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}
# OCSF account type ids: AWS Account, Azure AD Account (subscription), GCP Account (project).
ACCOUNT_TYPE_IDS = {"aws": 10, "azure": 6, "gcp": 5}
USER_TYPE_SYSTEM, USER_TYPE_USER, USER_TYPE_UNKNOWN = 3, 1, 0
ANALYTIC_RULE = 1
STATUS_NEW = 1
# The finding document's own fields that OCSF attributes carry; the rest go to `unmapped`.
_MAPPED = frozenset({
    "id", "title", "severity", "description", "runbook", "reference", "rule_id", "event_time",
    "first_seen", "count", "mitre", "cloud", "log_type", "context",
})


def _ms(iso: Any) -> int | None:
    """Epoch milliseconds of an ISO-8601 timestamp, or None when it is absent or unreadable."""
    if not isinstance(iso, str) or not iso:
        return None
    try:
        return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _account(cloud: str, event: AuditEvent | None) -> tuple[dict[str, Any] | None, str | None]:
    """The cloud account (AWS account, Azure subscription, GCP project) and region, where the
    delivered record says them: the AKS resourceId, the GKE LogEntry's resource labels."""
    if event is None:
        return None, None
    raw, uid, region = event.raw, None, None
    if cloud == "azure":
        parts = str(raw.get("resourceId") or raw.get("resourceID") or "").split("/")
        lowered = [p.lower() for p in parts]
        if "subscriptions" in lowered:
            i = lowered.index("subscriptions")
            uid = parts[i + 1] if i + 1 < len(parts) and parts[i + 1] else None
    elif cloud == "gcp":
        resource = raw.get("resource")
        labels = resource.get("labels") if isinstance(resource, Mapping) else None
        if isinstance(labels, Mapping):
            uid, region = _str(labels.get("project_id")), _str(labels.get("location"))
    if uid is None:
        return None, region
    account = {"uid": uid, "name": uid, "type_id": ACCOUNT_TYPE_IDS[cloud]}
    return account, region


def _actor(context: Mapping[str, Any], event: AuditEvent | None) -> dict[str, Any] | None:
    from kubetrail.rules.principals import is_system_principal

    name = _str(context.get("username"))
    if name is None:
        return None
    groups = list(event.groups) if event is not None else []
    user: dict[str, Any] = {
        "name": name, "uid": name,
        "type_id": USER_TYPE_SYSTEM if is_system_principal(name) else USER_TYPE_USER,
    }
    if groups:
        user["groups"] = [{"name": g} for g in groups]
    return {"user": user}


def _resource(doc: Mapping[str, Any], context: Mapping[str, Any],
              event: AuditEvent | None) -> dict[str, Any]:
    data = {"cluster": doc.get("cluster")}
    if event is not None:
        data.update(api_group=event.api_group, api_version=event.api_version,
                    subresource=event.subresource)
    resource: dict[str, Any] = {
        "type": _str(context.get("resource")) or "kubernetes",
        "data": {k: v for k, v in data.items() if v is not None},
    }
    for key in ("name", "namespace"):
        if _str(context.get(key)):
            resource[key] = context[key]
    return resource


def ocsf_document(doc: Mapping[str, Any], event: AuditEvent | None = None) -> dict[str, Any]:
    """The OCSF 1.5.0 Detection Finding for one kubetrail finding document."""
    kind = str(doc.get("kind") or "finding")
    cloud = str(doc.get("cloud") or "")
    raw_context = doc.get("context")
    context: Mapping[str, Any] = raw_context if isinstance(raw_context, Mapping) else {}
    severity_id = SEVERITY_IDS.get(str(doc.get("severity", "")).upper(), 0)
    escalation = kind == "escalation" and bool(_str(doc.get("escalates")))
    activity = ACTIVITY_UPDATE if escalation else ACTIVITY_CREATE
    event_ms = _ms(doc.get("event_time"))
    first_ms = _ms(doc.get("first_seen"))
    rule_id = str(doc.get("rule_id") or "")
    finding_info: dict[str, Any] = {
        "uid": str(doc.get("escalates") if escalation else doc.get("id")),
        "title": str(doc.get("title") or rule_id),
        "types": [kind],
        "analytic": {"uid": rule_id, "name": rule_id, "type_id": ANALYTIC_RULE, "type": "Rule"},
        "data_sources": [str(doc["log_type"])] if doc.get("log_type") else [],
    }
    if _str(doc.get("description")):
        finding_info["desc"] = doc["description"]
    if _str(doc.get("reference")):
        finding_info["src_url"] = doc["reference"]
    attacks = [attack(m.get("tactic"), m.get("technique"))
               for m in doc.get("mitre") or [] if isinstance(m, Mapping)]
    if attacks:
        finding_info["attacks"] = attacks
    if first_ms is not None:
        finding_info["first_seen_time"] = first_ms
    if event_ms is not None:
        finding_info["last_seen_time"] = event_ms
    out: dict[str, Any] = {
        "class_uid": CLASS_UID, "class_name": "Detection Finding",
        "category_uid": CATEGORY_UID, "category_name": "Findings",
        "activity_id": activity, "activity_name": "Update" if escalation else "Create",
        "type_uid": CLASS_UID * 100 + activity,
        "time": event_ms if event_ms is not None else 0,
        "severity_id": severity_id, "severity": SEVERITY_NAMES.get(severity_id, "Unknown"),
        "status_id": STATUS_NEW, "status": "New",
        "message": str(doc.get("title") or rule_id),
        "count": doc.get("count") if isinstance(doc.get("count"), int) else None,
        "metadata": {
            "version": OCSF_VERSION, "uid": str(doc.get("id")),
            "product": {"name": "kubetrail", "vendor_name": "kubetrail", "version": __version__},
            "profiles": ["cloud", "security_control"],
            "log_name": doc.get("log_type"), "correlation_uid": doc.get("dedup_key"),
        },
        "finding_info": finding_info,
        "resources": [_resource(doc, context, event)],
        "evidences": [{"data": {"context": dict(context), "risk": doc.get("risk") or {}}}],
    }
    if _str(doc.get("runbook")):
        out["remediation"] = {"desc": doc["runbook"]}
    if cloud in PROVIDERS:
        account, region = _account(cloud, event)
        out["cloud"] = {"provider": PROVIDERS[cloud]}
        if account:
            out["cloud"]["account"] = account
        if region:
            out["cloud"]["region"] = region
    actor = _actor(context, event)
    if actor:
        out["actor"] = actor
    ips = [ip for ip in context.get("sourceIPs") or [] if isinstance(ip, str)]
    if ips:
        out["src_endpoint"] = {"ip": ips[0], **({"intermediate_ips": ips[1:]} if ips[1:] else {})}
    if _str(context.get("userAgent")):
        # OCSF's network_endpoint has no user-agent attribute; http_request carries it.
        out["http_request"] = {"user_agent": context["userAgent"]}
    status = context.get("responseStatus")
    code = status.get("code") if isinstance(status, Mapping) else None
    api: dict[str, Any] = {"operation": str(context.get("verb") or "unknown")}
    if event is not None:
        if event.audit_id:
            api["request"] = {"uid": event.audit_id}
        if event.api_version:
            group = event.api_group or "core"
            api["version"] = event.api_version
            api["service"] = {"name": "kubernetes", "uid": f"{group}/{event.api_version}",
                              "version": event.api_version}
    if isinstance(code, int):
        api["response"] = {"code": code}
    out["api"] = api
    unmapped = {k: v for k, v in doc.items() if k not in _MAPPED}
    if _str(context.get("requestURI")):
        unmapped["requestURI"] = context["requestURI"]
    out["unmapped"] = unmapped
    return {k: v for k, v in out.items() if v is not None}
