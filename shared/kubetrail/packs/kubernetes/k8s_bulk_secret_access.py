"""Kubernetes.BulkSecretAccess: one user reading many different Secrets.

Each successful read of one named Secret (get, or a list/watch narrowed to its name) by a
non-system principal is a match; the distinct count (`Distinct: namespace+name`, Threshold 15
in 30 minutes per user) publishes when the user has read 15 different Secrets (the same name in
two namespaces is two Secrets). Nodes and control-plane components read Secrets for the pods
they run and are excluded (is_system_principal, exact).
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.requests import succeeded

READS = frozenset({"get", "list", "watch"})


def rule(event: AuditEvent) -> bool:
    # A list or watch with `fieldSelector=metadata.name=<x>` returns that one Secret: the API
    # server names it in objectRef, and it counts like a get. A watch sends the Secret as soon as
    # it starts (ResponseStarted) and may stay open past the window: both stages count (the
    # distinct count makes the second one free).
    if event.resource != "secrets" or event.subresource is not None or event.verb not in READS:
        return False
    started = event.verb == "watch" and event.stage == "ResponseStarted"
    return (bool(event.name) and (succeeded(event) or (started and not event.failed))
            and not is_system_principal(event.username))


def title(event: AuditEvent) -> str:
    return f"[{event.username or '<unknown>'}] read many distinct Kubernetes Secrets"


def dedup(event: AuditEvent) -> str:
    return event.username or ""


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"username": event.username, "namespace": event.namespace, "secret": event.name}
