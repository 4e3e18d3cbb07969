"""Kubernetes.Role.NodeProxyPermissions: a Role or ClusterRole granting `nodes/proxy`.

`nodes/proxy` reaches the kubelet API through the API server: with it, `get` alone is enough to
run commands in any pod on the node over a WebSocket and to read the kubelet's logs and metrics,
and the kubelet's own actions are poorly audited. Any verb counts; wildcards count (RBAC
matching, kubetrail.rules.rbac). System principals, which reconcile the built-in roles, are
excluded (exact test).
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.rbac import WILDCARD, object_name, policy_rules
from kubetrail.rules.requests import created_or_modified


def _verbs(event: AuditEvent) -> list[str]:
    verbs: set[str] = set()
    for r in policy_rules(event.request_object):
        if r.allows_group("") and r.allows_resource("nodes", "proxy"):
            verbs |= r.verbs
    return sorted(verbs)[:32]


def rule(event: AuditEvent) -> bool:
    return (event.subresource is None and created_or_modified(event)
            and not is_system_principal(event.username) and bool(_verbs(event)))


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] wrote {event.resource} "
            f"[{object_name(event.request_object, event.name) or '<unknown>'}] granting "
            "nodes/proxy")


def dedup(event: AuditEvent) -> str:
    return (f"{event.username or ''}\x1f{event.namespace or ''}\x1f"
            f"{object_name(event.request_object, event.name) or ''}")


def severity(event: AuditEvent) -> str:
    verbs = _verbs(event)
    return "CRITICAL" if WILDCARD in verbs or "create" in verbs else "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"nodes_proxy_verbs": _verbs(event)}
