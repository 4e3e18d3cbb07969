"""Who is a system principal and which namespaces are the cluster's own: one exact notion for
every rule in the pack.

Exact comparisons only, never prefix tests on what a user can choose: a look-alike such as
`aksService ` (trailing space), `gke-admin@…`, `system:serviceaccount:default:builder` or
`system:anonymous` is never a system principal, so it can never ride an exclusion.
"""

from __future__ import annotations

from kubetrail.events import AuditEvent

SYSTEM_NAMESPACES = frozenset({"kube-system", "gke-system", "kube-node-lease", "kube-public"})
# The managed control planes' own identities (AKS, GKE).
MANAGED_PRINCIPALS = frozenset({"masterclient", "aksService"})
# `system:` names that no cluster component uses: they stand for the unauthenticated.
NOT_SYSTEM_PRINCIPALS = frozenset({"system:anonymous", "system:unauthenticated"})
SA_PREFIX = "system:serviceaccount:"
ANONYMOUS_USER = "system:anonymous"
UNAUTHENTICATED_GROUP = "system:unauthenticated"


def is_system_principal(username: str | None) -> bool:
    """A control-plane component, node, managed-service identity or kube-system service account.

    `system:serviceaccount:kube-system:<name>` qualifies (the account lives in kube-system);
    service accounts of any other namespace do not, nor do the unauthenticated identities."""
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


def is_system_namespace(namespace: str | None) -> bool:
    """One of the cluster's own namespaces (exact name)."""
    return namespace in SYSTEM_NAMESPACES


def system_in_system_namespace(event: AuditEvent) -> bool:
    """The pack's shared exclusion for workload and exposure rules: the cluster's own components
    acting in its own namespaces (they create hostNetwork pods in kube-system all day)."""
    return is_system_namespace(event.namespace) and is_system_principal(event.username)


def is_anonymous(event: AuditEvent) -> bool:
    """The request was not authenticated (anonymous user or the unauthenticated group)."""
    return event.username == ANONYMOUS_USER or UNAUTHENTICATED_GROUP in event.groups
