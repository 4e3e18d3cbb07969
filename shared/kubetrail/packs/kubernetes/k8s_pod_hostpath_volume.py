"""Kubernetes.Pod.HostPath.Volume: a pod spec mounting a directory or file of the node took
effect. Severity follows the most sensitive path (normalized: `//var/run/./docker.sock` counts).

A PersistentVolume of type hostPath or local gives the same mount to any pod that claims it,
with no hostPath in the pod's own spec: its creation (or change) by a non-system principal counts
too (provisioners running as system principals are excluded, exact test)."""

from collections.abc import Mapping
from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import host_path_severity, host_paths
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.rbac import object_name
from kubetrail.rules.requests import created_or_modified
from kubetrail.rules.workloads import actor_dedup, workload_title, workload_write

_ORDER = ("MEDIUM", "HIGH", "CRITICAL")


PERSISTENT_VOLUMES = "persistentvolumes"


def _volume_paths(event: AuditEvent) -> list[str]:
    """The node path of a hostPath or local PersistentVolume written by a non-system principal."""
    if event.subresource is not None or not created_or_modified(event) \
            or is_system_principal(event.username):
        return []
    spec = event.request_object.get("spec") if event.request_object else None
    if not isinstance(spec, Mapping):
        return []
    found = []
    for kind in ("hostPath", "local"):
        source = spec.get(kind)
        if isinstance(source, Mapping) and isinstance(source.get("path"), str):
            found.append(source["path"])
    return found


def _paths(event: AuditEvent) -> list[str]:
    if event.resource == PERSISTENT_VOLUMES:
        return _volume_paths(event)
    write = workload_write(event)
    if write is None or not write.pod_level:
        return []
    return host_paths(write.spec)


def rule(event: AuditEvent) -> bool:
    return bool(_paths(event))


def title(event: AuditEvent) -> str:
    if event.resource == PERSISTENT_VOLUMES:
        return (f"[{event.username or '<unknown>'}] wrote PersistentVolume "
                f"[{object_name(event.request_object, event.name) or '<unknown>'}] on host paths "
                f"{_paths(event)}")
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
