"""Kubernetes.Service.NodePort.Deployed: a Service of type NodePort created or changed.

A NodePort opens the same port on every node, on every node address, bypassing the ingress and
load-balancer controls. The type is compared exactly, as the API server validates it. The pack's
exclusion applies: the cluster's own components in its own namespaces.
"""

from collections.abc import Mapping
from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import system_in_system_namespace
from kubetrail.rules.rbac import object_name
from kubetrail.rules.requests import created_or_modified


def _spec(event: AuditEvent) -> Mapping[str, Any]:
    spec = event.request_object.get("spec") if event.request_object else None
    return spec if isinstance(spec, Mapping) else {}


def rule(event: AuditEvent) -> bool:
    return (event.subresource is None and created_or_modified(event)
            and _spec(event).get("type") == "NodePort"
            and not system_in_system_namespace(event))


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] exposed Service "
            f"[{event.namespace or '<unknown>'}/"
            f"{object_name(event.request_object, event.name) or '<unknown>'}] as a NodePort")


def dedup(event: AuditEvent) -> str:
    return (f"{event.username or ''}\x1f{event.namespace or ''}\x1f"
            f"{object_name(event.request_object, event.name) or ''}")


def alert_context(event: AuditEvent) -> dict[str, Any]:
    ports = _spec(event).get("ports")
    node_ports = [p.get("nodePort") for p in ports[:32] if isinstance(p, Mapping)] \
        if isinstance(ports, list) else []
    return {"node_ports": [p for p in node_ports if isinstance(p, int)]}
