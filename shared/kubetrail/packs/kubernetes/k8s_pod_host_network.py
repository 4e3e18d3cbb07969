"""Kubernetes.Pod.Host.Network: a pod spec sharing the node's Network namespace (hostNetwork: true)
took effect."""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import host_namespaces
from kubetrail.rules.workloads import actor_dedup, workload_title, workload_write

FIELD = "hostNetwork"


def rule(event: AuditEvent) -> bool:
    write = workload_write(event)
    return write is not None and write.pod_level and FIELD in host_namespaces(write.spec)


def title(event: AuditEvent) -> str:
    write = workload_write(event)
    assert write is not None
    return workload_title(event, write, f"with {FIELD}")


def dedup(event: AuditEvent) -> str:
    return actor_dedup(event)


def alert_context(event: AuditEvent) -> dict[str, Any]:
    write = workload_write(event)
    return {"host_namespaces": host_namespaces(write.spec) if write else []}
