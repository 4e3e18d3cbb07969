"""Kubernetes.Pod.Dangerous.Capabilities: a pod spec whose containers add Linux capabilities
that open a way out of the container or into the node's network took effect."""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import (
    DANGEROUS_CAPABILITIES,
    ESCAPE_CAPABILITIES,
    added_capabilities,
    containers,
)
from kubetrail.rules.workloads import actor_dedup, workload_title, workload_write


def _added(event: AuditEvent) -> dict[str, list[str]]:
    write = workload_write(event)
    if write is None:
        return {}
    found = {}
    for name, c in containers(write.spec, write.lists):
        caps = sorted(added_capabilities(c) & DANGEROUS_CAPABILITIES)
        if caps:
            found[name] = caps
    return found


def rule(event: AuditEvent) -> bool:
    return bool(_added(event))


def title(event: AuditEvent) -> str:
    write = workload_write(event)
    assert write is not None
    caps = sorted({cap for caps in _added(event).values() for cap in caps})
    return workload_title(event, write, f"adding capabilities {caps}")


def severity(event: AuditEvent) -> str:
    caps = {cap for caps in _added(event).values() for cap in caps}
    return "HIGH" if caps & ESCAPE_CAPABILITIES else "DEFAULT"


def dedup(event: AuditEvent) -> str:
    return actor_dedup(event)


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"capabilities_by_container": _added(event)}
