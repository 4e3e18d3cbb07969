"""Kubernetes.Secret.AccessDenied: repeated denied reads of Secrets by one user.

Each denied get/list/watch of `secrets` is a match; the Threshold (20 in 15 minutes per user)
publishes a burst once. No principal is excluded: a node or controller hammering Secrets it may
not read is as worth a look as a person doing so.
"""

from typing import Any

from kubetrail.events import AuditEvent

DENIED = frozenset({401, 403})
READ_VERBS = frozenset({"get", "list", "watch"})


def rule(event: AuditEvent) -> bool:
    return (event.resource == "secrets" and event.subresource is None
            and event.verb in READ_VERBS and event.completed
            and event.response_code in DENIED)


def title(event: AuditEvent) -> str:
    return f"[{event.username or '<unknown>'}] was repeatedly denied reading Kubernetes Secrets"


def dedup(event: AuditEvent) -> str:
    return event.username or ""


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"username": event.username, "namespace": event.namespace, "secret": event.name,
            "verb": event.verb, "response_code": event.response_code}
