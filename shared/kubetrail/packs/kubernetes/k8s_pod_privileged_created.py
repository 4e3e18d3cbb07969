"""Kubernetes.Pod.Privileged.Created: a pod spec with a privileged (or Windows HostProcess)
container took effect: created, a controller's template changed, or an ephemeral container."""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import containers, is_privileged, pod_host_process
from kubetrail.rules.workloads import actor_dedup, workload_title, workload_write


def _privileged(event: AuditEvent) -> list[str]:
    write = workload_write(event)
    if write is None:
        return []
    if write.pod_level and pod_host_process(write.spec):
        # a Windows HostProcess pod: every container, even one not named in a patch
        return [name for name, _ in containers(write.spec, write.lists)] or ["<all containers>"]
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
