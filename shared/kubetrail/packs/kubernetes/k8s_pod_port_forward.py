"""Kubernetes.Pod.PortForward: a port of a pod forwarded to the caller's machine (SPDY or
WebSocket): a tunnel past network policies and ingress controls."""

from typing import Any
from urllib.parse import unquote_plus

from kubetrail.events import AuditEvent
from kubetrail.rules.execs import target_pod
from kubetrail.rules.principals import is_system_namespace, system_in_system_namespace
from kubetrail.rules.requests import kubelet_stream, streamed

PORT_FORWARD = frozenset({"portforward"})


def rule(event: AuditEvent) -> bool:
    stream = kubelet_stream(event)
    if stream is not None:
        return stream[0] == "portforward"
    return streamed(event, PORT_FORWARD) and not system_in_system_namespace(event)


def _ports(event: AuditEvent) -> list[str]:
    query = (event.request_uri or "").partition("?")[2][:4096]
    return [unquote_plus(v) for k, _, v in (p.partition("=") for p in query.split("&"))
            if k == "ports"][:50]


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] forwarded ports {_ports(event)} of pod "
            f"{target_pod(event)}")


def severity(event: AuditEvent) -> str:
    return "MEDIUM" if is_system_namespace(event.namespace) else "DEFAULT"


def dedup(event: AuditEvent) -> str:
    return f"{event.username or ''}\x1f{event.namespace or ''}\x1f{event.name or ''}"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"pod": event.name, "ports": _ports(event)}
