"""Kubernetes.SystemRole.Modified: a `system:` role or binding created, changed or deleted by a
non-system principal.

The `system:` ClusterRoles and bindings are the cluster's own (node, controller and discovery
permissions). Changing one quietly widens what every node or controller may do; deleting one
breaks or replaces it; creating a new `system:`-named one hides a grant among them. A
deletecollection of roles or bindings removes system ones too and always matches. The API server
reconciles these objects at start-up, so system principals are excluded (exact test); the name
test is on the object (`system:` prefix), never on the principal.
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.rbac import object_name
from kubetrail.rules.requests import created_or_modified, succeeded

SYSTEM_PREFIX = "system:"


def rule(event: AuditEvent) -> bool:
    if event.subresource is not None or is_system_principal(event.username):
        return False
    if event.verb == "deletecollection":
        return succeeded(event)
    name = object_name(event.request_object, event.name)
    if not name or not name.startswith(SYSTEM_PREFIX):
        return False
    return created_or_modified(event) or (event.verb == "delete" and succeeded(event))


def title(event: AuditEvent) -> str:
    name = object_name(event.request_object, event.name) or "<all>"
    return f"[{event.username or '<unknown>'}] ran {event.verb} on system {event.resource} [{name}]"


def dedup(event: AuditEvent) -> str:
    return (f"{event.username or ''}\x1f{event.resource or ''}\x1f"
            f"{object_name(event.request_object, event.name) or ''}")


def severity(event: AuditEvent) -> str:
    return "CRITICAL" if event.verb in ("delete", "deletecollection") else "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"object": object_name(event.request_object, event.name), "verb": event.verb,
            "namespace": event.namespace}
