"""Kubernetes.Pod.Privileged.Created: a pod spec with a privileged (or Windows HostProcess)
container took effect: created, a controller's template changed, or an ephemeral container."""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import containers, is_privileged
from kubetrail.rules.workloads import actor_dedup, workload_title, workload_write


def _privileged(event: AuditEvent) -> list[str]:
    write = workload_write(event)
    if write is None:
        return []
    return [name for name, c in containers(write.spec, write.lists) if is_privileged(c)]


def rule(event: AuditEvent) -> bool:
    return bool(_privileged(event))


def title(event: AuditEvent) -> str:
    write = workload_write(event)
    assert write is not None
    return workload_title(event, write, f"with privileged containers {_privileged(event)}")


def dedup(event: AuditEvent) -> str:
    return actor_dedup(event)


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"privileged_containers": _privileged(event)}
