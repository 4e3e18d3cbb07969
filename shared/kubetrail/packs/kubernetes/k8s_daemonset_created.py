"""Kubernetes DaemonSet Created (seed rule, from panther-analysis).

Exclusion is deliberately narrow: only a *system principal* acting in a *system namespace* is
expected. Every comparison is exact, so a look-alike (`aksService ` with a space, `gke-admin@…`,
`system:serviceaccount:default:builder`, `system:anonymous`) is a finding, never a bypass.
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import workload_risk

SYSTEM_NAMESPACES = frozenset({"kube-system", "gke-system", "kube-node-lease", "kube-public"})
MANAGED_PRINCIPALS = frozenset({"masterclient", "aksService"})
# `system:` identities that no cluster component uses and that stand for the unauthenticated.
NOT_SYSTEM_PRINCIPALS = frozenset({"system:anonymous", "system:unauthenticated"})
SA_PREFIX = "system:serviceaccount:"


def is_system_principal(username: str | None) -> bool:
    if not username:
        return False
    if username in MANAGED_PRINCIPALS:
        return True
    if username.startswith(SA_PREFIX):
        parts = username.split(":")
        return len(parts) == 4 and parts[2] == "kube-system" and parts[3] != ""
    return (
        username.startswith("system:")
        and not username.startswith("system:serviceaccount")
        and username not in NOT_SYSTEM_PRINCIPALS
    )


def rule(event: AuditEvent) -> bool:
    if event.verb != "create" or event.resource != "daemonsets" or event.subresource:
        return False
    if not event.completed or event.failed or event.dry_run:
        return False
    return not (event.namespace in SYSTEM_NAMESPACES and is_system_principal(event.username))


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] created DaemonSet "
            f"[{event.namespace or '<cluster>'}/{event.name or '<unknown>'}]")


def dedup(event: AuditEvent) -> str:
    # The unit separator cannot occur in a username or namespace, so no two pairs collide.
    return f"{event.username or ''}\x1f{event.namespace or ''}"


def severity(event: AuditEvent) -> str:
    return workload_risk(event.request_object)["severity"] or "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    risk = workload_risk(event.request_object)
    del risk["severity"]
    return risk
