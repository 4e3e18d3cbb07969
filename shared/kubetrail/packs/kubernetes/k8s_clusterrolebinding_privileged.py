"""Kubernetes.ClusterRoleBinding.Privileged: a binding that hands out cluster-admin-like power.

Matches a created or modified RoleBinding/ClusterRoleBinding whose roleRef is the ClusterRole
`cluster-admin` or `admin` (a namespaced Role that happens to be named `admin` is not the
built-in), or one of whose subjects is the group `system:masters` (which bypasses RBAC
entirely). The API server itself reconciles the default bindings at start-up, so system
principals are excluded (exact test).

A patch carries only what it changes: a patch adding a subject to an existing cluster-admin
binding has no roleRef and matches only when it adds `system:masters`.

Binding `system:anonymous` or `system:unauthenticated` matches whatever the role: it hands the
role to anyone who can reach the API server (Critical).
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.rbac import object_name, role_ref, subjects
from kubetrail.rules.requests import created_or_modified

PRIVILEGED_CLUSTER_ROLES = frozenset({"cluster-admin", "admin"})
MASTERS = "system:masters"
# Subjects that stand for everyone (or everyone authenticated): binding them is critical.
EVERYONE = frozenset({"system:anonymous", "system:unauthenticated", "system:authenticated"})


def _privileged_ref(event: AuditEvent) -> bool:
    ref = role_ref(event.request_object)
    return ref is not None and ref[0] == "ClusterRole" and ref[1] in PRIVILEGED_CLUSTER_ROLES


def _binds_masters(event: AuditEvent) -> bool:
    return any(s.kind == "Group" and s.name == MASTERS for s in subjects(event.request_object))


# Subjects that hand whatever the role grants to anyone who can reach the API server: binding
# them to *any* role is a finding (and Critical), not only to cluster-admin.
UNAUTHENTICATED = frozenset({("User", "system:anonymous"), ("Group", "system:unauthenticated")})


def _binds_unauthenticated(event: AuditEvent) -> bool:
    return any((s.kind, s.name) in UNAUTHENTICATED for s in subjects(event.request_object))


def rule(event: AuditEvent) -> bool:
    if event.subresource is not None or not created_or_modified(event):
        return False
    if is_system_principal(event.username):
        return False
    return _privileged_ref(event) or _binds_masters(event) or _binds_unauthenticated(event)


def title(event: AuditEvent) -> str:
    ref = role_ref(event.request_object)
    if _privileged_ref(event) and ref is not None:
        target = ref[1]
    elif _binds_masters(event):
        target = "system:masters"
    else:
        target = f"{ref[1] if ref else '<role>'} to unauthenticated users"
    return (f"[{event.username or '<unknown>'}] bound [{target}] in {event.resource} "
            f"[{object_name(event.request_object, event.name) or '<unknown>'}]")


def dedup(event: AuditEvent) -> str:
    return (f"{event.username or ''}\x1f{event.namespace or ''}\x1f"
            f"{object_name(event.request_object, event.name) or ''}")


def severity(event: AuditEvent) -> str:
    if any(s.name in EVERYONE for s in subjects(event.request_object)):
        return "CRITICAL"
    return "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    ref = role_ref(event.request_object)
    return {"role_ref": None if ref is None else {"kind": ref[0], "name": ref[1]},
            "subjects": [{"kind": s.kind, "name": s.name, "namespace": s.namespace}
                         for s in subjects(event.request_object)[:20]]}
