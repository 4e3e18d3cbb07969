"""Kubernetes.Pod.HostPath.Volume: a pod spec mounting a directory or file of the node took
effect. Severity follows the most sensitive path (normalized: `//var/run/./docker.sock` counts)."""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import host_path_severity, host_paths
from kubetrail.rules.workloads import actor_dedup, workload_title, workload_write

_ORDER = ("MEDIUM", "HIGH", "CRITICAL")


def _paths(event: AuditEvent) -> list[str]:
    write = workload_write(event)
    if write is None or not write.pod_level:
        return []
    return host_paths(write.spec)


def rule(event: AuditEvent) -> bool:
    return bool(_paths(event))


def title(event: AuditEvent) -> str:
    write = workload_write(event)
    assert write is not None
    return workload_title(event, write, f"mounting host paths {_paths(event)}")


def severity(event: AuditEvent) -> str:
    return max((host_path_severity(p) for p in _paths(event)), key=_ORDER.index,
               default="DEFAULT")


def dedup(event: AuditEvent) -> str:
    return actor_dedup(event)


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"host_paths": {p: host_path_severity(p) for p in _paths(event)}}
