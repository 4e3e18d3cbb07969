"""Kubernetes.BulkSecretAccess: one user reading many different Secrets.

Each successful get of a named Secret by a non-system principal is a match; the distinct count
(`Distinct: name`, Threshold 15 in 30 minutes per user) publishes when the user has read 15
different Secrets. Nodes and control-plane components read Secrets for the pods they run and
are excluded (is_system_principal, exact).
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.requests import succeeded


def rule(event: AuditEvent) -> bool:
    return (event.resource == "secrets" and event.subresource is None and event.verb == "get"
            and bool(event.name) and succeeded(event)
            and not is_system_principal(event.username))


def title(event: AuditEvent) -> str:
    return f"[{event.username or '<unknown>'}] read many distinct Kubernetes Secrets"


def dedup(event: AuditEvent) -> str:
    return event.username or ""


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"username": event.username, "namespace": event.namespace, "secret": event.name}
