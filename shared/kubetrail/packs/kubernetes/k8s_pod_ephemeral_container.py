"""Kubernetes.Pod.EphemeralContainer.Created: a container added to a running pod through the
pods/ephemeralcontainers subresource (`kubectl debug`): it shares the pod's namespaces, volumes
and service-account token, and can be privileged."""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import (
    ESCAPE_CAPABILITIES,
    added_capabilities,
    containers,
    is_privileged,
)
from kubetrail.rules.workloads import EPHEMERAL, actor_dedup, object_name, workload_write


def _containers(event: AuditEvent) -> list[tuple[str, Any]]:
    write = workload_write(event)
    if write is None or event.subresource != EPHEMERAL:
        return []
    return list(containers(write.spec, write.lists))


def rule(event: AuditEvent) -> bool:
    return workload_write(event) is not None and event.subresource == EPHEMERAL


def title(event: AuditEvent) -> str:
    names = [name for name, _ in _containers(event)]
    return (f"[{event.username or '<unknown>'}] added ephemeral containers {names} to pod "
            f"[{object_name(event)}]")


def severity(event: AuditEvent) -> str:
    for _, c in _containers(event):
        if is_privileged(c) or added_capabilities(c) & ESCAPE_CAPABILITIES:
            return "HIGH"
    return "DEFAULT"


def dedup(event: AuditEvent) -> str:
    return actor_dedup(event)


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"pod": event.name,
            "ephemeral_containers": [{"name": n, "image": c.get("image"),
                                      "privileged": is_privileged(c)}
                                     for n, c in _containers(event)]}
