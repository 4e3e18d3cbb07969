"""Kubernetes.Pod.Exec: a shell or command run in a pod (exec), or a terminal attached to one
(attach), over SPDY (verb create) or WebSocket (verb get, kubectl >= 1.30)."""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.execs import exec_command, shown_command
from kubetrail.rules.principals import is_system_namespace, system_in_system_namespace
from kubetrail.rules.requests import streamed

SUBRESOURCES = frozenset({"exec", "attach"})


def rule(event: AuditEvent) -> bool:
    return streamed(event, SUBRESOURCES) and not system_in_system_namespace(event)


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] ran {event.subresource} in pod "
            f"[{event.namespace or '<unknown>'}/{event.name or '<unknown>'}]")


def severity(event: AuditEvent) -> str:
    # The cluster's own pods hold its most powerful credentials.
    return "HIGH" if is_system_namespace(event.namespace) else "DEFAULT"


def dedup(event: AuditEvent) -> str:
    return f"{event.username or ''}\x1f{event.namespace or ''}\x1f{event.name or ''}"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"subresource": event.subresource, "pod": event.name,
            "command": shown_command(exec_command(event))}
