"""Kubernetes.Role.PodExec: a Role or ClusterRole that lets its holders exec or attach into pods.

`pods/exec` and `pods/attach` are authorized as `create` (SPDY) or `get` (WebSocket, the default
of kubectl >= 1.30 and accepted by API servers before 1.35): either verb grants a shell in every
container the role reaches. `update`/`patch` of `pods/ephemeralcontainers` grants the same (a
debug container of any image, privileged if asked, in any pod the role reaches). Wildcards count
(RBAC matching, kubetrail.rules.rbac). System principals, which reconcile the built-in roles,
are excluded (exact test).
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.rbac import grants_any, object_name, policy_rules
from kubetrail.rules.requests import created_or_modified

SUBRESOURCES = ("exec", "attach")
VERBS = ("create", "get")


# Adding an ephemeral container (`kubectl debug`) runs any image, privileged if asked, inside
# the pod: a shell by another name.
EPHEMERAL_VERBS = ("update", "patch")


def _granted(event: AuditEvent) -> list[str]:
    rules = policy_rules(event.request_object)
    found = [f"pods/{s}" for s in SUBRESOURCES if grants_any(rules, VERBS, "", "pods", s)]
    if grants_any(rules, EPHEMERAL_VERBS, "", "pods", "ephemeralcontainers"):
        found.append("pods/ephemeralcontainers")
    return found


def rule(event: AuditEvent) -> bool:
    return (event.subresource is None and created_or_modified(event)
            and not is_system_principal(event.username) and bool(_granted(event)))


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] wrote {event.resource} "
            f"[{object_name(event.request_object, event.name) or '<unknown>'}] allowing "
            f"{' and '.join(_granted(event))}")


def dedup(event: AuditEvent) -> str:
    return (f"{event.username or ''}\x1f{event.namespace or ''}\x1f"
            f"{object_name(event.request_object, event.name) or ''}")


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"granted": _granted(event)}
