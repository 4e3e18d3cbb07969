"""Kubernetes.Role.WritePermissions: a Role or ClusterRole granting writes on Secrets, RBAC or
workloads.

Write means create, update, patch, delete or deletecollection (or `*`), plus `bind`, `escalate`
on roles and `impersonate` anywhere, which lift the holder's own permissions. The targets: Secrets;
roles and bindings; Pods and every controller that makes Pods. Matching is the API server's
(wildcards included, kubetrail.rules.rbac). System principals, which reconcile the built-in
roles, are excluded (exact test).
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.rbac import RBAC_GROUP, WRITE_VERBS, grants_any, object_name, policy_rules
from kubetrail.rules.requests import created_or_modified

# (category, API group, resource)
TARGETS = (
    ("secrets", "", "secrets"),
    ("rbac", RBAC_GROUP, "roles"), ("rbac", RBAC_GROUP, "clusterroles"),
    ("rbac", RBAC_GROUP, "rolebindings"), ("rbac", RBAC_GROUP, "clusterrolebindings"),
    ("workloads", "", "pods"), ("workloads", "", "replicationcontrollers"),
    ("workloads", "apps", "deployments"), ("workloads", "apps", "daemonsets"),
    ("workloads", "apps", "statefulsets"), ("workloads", "apps", "replicasets"),
    ("workloads", "batch", "jobs"), ("workloads", "batch", "cronjobs"),
)
ESCALATION_VERBS = ("bind", "escalate")
IMPERSONATED = (("", "users"), ("", "groups"), ("", "serviceaccounts"))


def _granted(event: AuditEvent) -> list[str]:
    rules = policy_rules(event.request_object)
    if not rules:
        return []
    found = [f"{cat}:{res}" for cat, group, res in TARGETS
             if grants_any(rules, WRITE_VERBS, group, res)]
    found += [f"rbac:{res}:{verb}" for res in ("roles", "clusterroles") for verb in ESCALATION_VERBS
              if grants_any(rules, (verb,), RBAC_GROUP, res)]
    found += [f"impersonate:{res}" for group, res in IMPERSONATED
              if grants_any(rules, ("impersonate",), group, res)]
    return found


def rule(event: AuditEvent) -> bool:
    return (event.subresource is None and created_or_modified(event)
            and not is_system_principal(event.username) and bool(_granted(event)))


def title(event: AuditEvent) -> str:
    cats = sorted({g.split(":")[0] for g in _granted(event)})
    return (f"[{event.username or '<unknown>'}] wrote {event.resource} "
            f"[{object_name(event.request_object, event.name) or '<unknown>'}] granting write "
            f"access to {', '.join(cats)}")


def dedup(event: AuditEvent) -> str:
    return (f"{event.username or ''}\x1f{event.namespace or ''}\x1f"
            f"{object_name(event.request_object, event.name) or ''}")


def severity(event: AuditEvent) -> str:
    granted = _granted(event)
    risky = any(not g.startswith("workloads:") for g in granted)
    return "HIGH" if risky else "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"granted": _granted(event)}
