"""Kubernetes.API.Multiple403.PublicIP: denied (401/403) requests from a public address.

One denied request is noise; the rule's Threshold (10 in 30 minutes per source address) turns a
burst into one finding: credential stuffing, permission probing or a stolen token trying its luck.
The source is the last public address of sourceIPs (kubetrail.rules.network), so a forged
X-Forwarded-For header can neither hide the caller nor spread its count over many keys.
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.network import public_source_ip, shown_source

DENIED = frozenset({401, 403})


def rule(event: AuditEvent) -> bool:
    return (event.completed and event.response_code in DENIED
            and public_source_ip(event) is not None)


def title(event: AuditEvent) -> str:
    return ("Repeated denied Kubernetes API requests from public address "
            f"[{shown_source(event)}]")


def dedup(event: AuditEvent) -> str:
    return public_source_ip(event) or ""


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"public_source_ip": public_source_ip(event), "response_code": event.response_code,
            "username": event.username, "verb": event.verb, "resource": event.resource,
            "request_uri": event.request_uri}
