"""Kubernetes.Pod.Exec: a shell or command run in a pod (exec), or a terminal attached to one
(attach), over SPDY (verb create) or WebSocket (verb get, kubectl >= 1.30)."""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.execs import exec_command, shown_command
from kubetrail.rules.principals import is_system_namespace, system_in_system_namespace
from kubetrail.rules.requests import kubelet_stream, streamed

SUBRESOURCES = frozenset({"exec", "attach"})


def _target(event: AuditEvent) -> tuple[str | None, str | None, str | None, str]:
    """(subresource, namespace, pod, how): a pod's exec/attach, or the same through the node
    proxy (`nodes/proxy` straight to the kubelet, which the pod's own audit never shows)."""
    stream = kubelet_stream(event)
    if stream is not None:
        return *stream, f"through the proxy of node [{event.name or '<unknown>'}]"
    return event.subresource, event.namespace, event.name, ""


def rule(event: AuditEvent) -> bool:
    stream = kubelet_stream(event)
    if stream is not None:
        return stream[0] in SUBRESOURCES
    return streamed(event, SUBRESOURCES) and not system_in_system_namespace(event)


def title(event: AuditEvent) -> str:
    subresource, namespace, pod, how = _target(event)
    return (f"[{event.username or '<unknown>'}] ran {subresource} in pod "
            f"[{namespace or '<unknown>'}/{pod or '<unknown>'}] {how}").rstrip()


def severity(event: AuditEvent) -> str:
    # The cluster's own pods hold its most powerful credentials.
    via_node = kubelet_stream(event) is not None  # past the pod's own RBAC and audit
    return "HIGH" if via_node or is_system_namespace(_target(event)[1]) else "DEFAULT"


def dedup(event: AuditEvent) -> str:
    return f"{event.username or ''}\x1f{event.namespace or ''}\x1f{event.name or ''}"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    subresource, namespace, pod, _ = _target(event)
    return {"subresource": subresource, "pod": pod, "pod_namespace": namespace,
            "via_node_proxy": kubelet_stream(event) is not None,
            "command": shown_command(exec_command(event))}
