"""The three host-namespace rules (Kubernetes.Pod.Host.Network, .PID, .IPC) differ only in the
pod-spec field they look for; their functions are made here once, per field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import host_namespaces
from kubetrail.rules.workloads import actor_dedup, workload_title, workload_write

# The rule module's functions, to unpack into its namespace: rule, title, dedup, alert_context.
# (A plain tuple: a NamedTuple class costs ~1.5 ms of every start, for three unpackings.)
HostNamespaceRule = tuple[Callable[[AuditEvent], bool], Callable[[AuditEvent], str],
                          Callable[[AuditEvent], str], Callable[[AuditEvent], dict[str, Any]]]


def host_namespace_rule(field: str) -> HostNamespaceRule:
    """A pod spec (of a pod or any workload's template) that set `field` (hostNetwork, hostPID,
    hostIPC) to true, and took effect."""

    def rule(event: AuditEvent) -> bool:
        write = workload_write(event)
        return write is not None and write.pod_level and field in host_namespaces(write.spec)

    def title(event: AuditEvent) -> str:
        write = workload_write(event)
        assert write is not None
        return workload_title(event, write, f"with {field}")

    def alert_context(event: AuditEvent) -> dict[str, Any]:
        write = workload_write(event)
        return {"host_namespaces": host_namespaces(write.spec) if write else []}

    return rule, title, actor_dedup, alert_context
