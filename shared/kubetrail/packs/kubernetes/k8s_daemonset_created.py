"""Kubernetes DaemonSet Created (seed rule, from panther-analysis).

Exclusion is deliberately narrow: only a *system principal* acting in a *system namespace* is
expected. Every comparison is exact, so a look-alike (`aksService ` with a space, `gke-admin@…`,
`system:serviceaccount:default:builder`, `system:anonymous`) is a finding, never a bypass.
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import workload_risk
from kubetrail.rules.principals import system_in_system_namespace
from kubetrail.rules.requests import created, creation


def rule(event: AuditEvent) -> bool:
    if event.resource != "daemonsets" or event.subresource:
        return False
    # created(): completed, not failed, not a dry run; a server-side apply (patch) answered
    # 201 is a create too (`kubectl apply --server-side` must not evade the rule).
    return created(event) and not system_in_system_namespace(event)


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] {creation(event) or 'created'} DaemonSet "
            f"[{event.namespace or '<cluster>'}/{event.name or '<unknown>'}]")


def dedup(event: AuditEvent) -> str:
    # The unit separator cannot occur in a username or namespace, so no two pairs collide.
    return f"{event.username or ''}\x1f{event.namespace or ''}"


def severity(event: AuditEvent) -> str:
    return workload_risk(event.request_object, "daemonsets")["severity"] or "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    risk = workload_risk(event.request_object, "daemonsets")
    del risk["severity"]
    return risk
