"""The shared gate of the workload rules: which requests wrote a pod spec, and how to name them.

A workload rule looks at a pod spec that a request made take effect:

* a Pod, or a Deployment, DaemonSet, StatefulSet, ReplicaSet, ReplicationController, Job or
  CronJob, created (a server-side apply that creates included);
* one of those controllers modified (update or patch): a changed pod template makes new pods,
  and the controller that makes them is a system principal, which in a system namespace the
  pack excludes, so the change itself must be seen;
* an ephemeral container added to a running pod (the pods/ephemeralcontainers subresource,
  `kubectl debug`): only the ephemeral containers of that request are judged, since the rest
  of the pod already existed.

The pack's exclusion applies: a system principal acting in a system namespace is expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.record import record
from kubetrail.rules.podspec import CONTAINER_LISTS, WORKLOAD_KINDS, pod_spec
from kubetrail.rules.principals import system_in_system_namespace
from kubetrail.rules.requests import creation, modified

WORKLOAD_RESOURCES = frozenset(WORKLOAD_KINDS)
EPHEMERAL = "ephemeralcontainers"
# Requires of the workload rules: every verb that can write a pod spec.
WORKLOAD_VERBS = ("create", "update", "patch")


@record(frozen=True, slots=True)
class WorkloadWrite:
    """A request that wrote a pod spec: what it did, the spec, the container lists to judge."""

    action: str  # "created", "applied" (GKE), "modified" or "added an ephemeral container to"
    kind: str
    spec: Mapping[str, Any]
    lists: tuple[str, ...]
    pod_level: bool  # the request can change pod-level settings (volumes, host namespaces)


def workload_write(event: AuditEvent) -> WorkloadWrite | None:
    """The pod spec write this request made, or None (not a workload, failed, dry run, not
    completed, or a system principal in a system namespace).

    Seven rules ask this of the same event in a row: the last answer is kept, keyed by the
    event's identity (the engine holds the event while it evaluates it, so the identity cannot
    be reused for another event while it is kept here; one tuple swap keeps it safe across
    threads)."""
    last_event, last_write = _LAST[0]
    if last_event is event:
        return last_write
    write = _workload_write(event)
    _LAST[0] = (event, write)
    return write


# The last event asked about and its answer (the reference keeps that event's identity unique).
_LAST: list[tuple[AuditEvent | None, WorkloadWrite | None]] = [(None, None)]


def _workload_write(event: AuditEvent) -> WorkloadWrite | None:
    resource = event.resource
    if resource not in WORKLOAD_RESOURCES or system_in_system_namespace(event):
        return None
    kind = WORKLOAD_KINDS[resource]
    if event.subresource is None:
        action = creation(event)
        if action is None and resource != "pods" and modified(event):
            action = "modified"
        if action is None:
            return None
        return WorkloadWrite(action, kind, pod_spec(event.request_object, resource),
                             CONTAINER_LISTS, True)
    if resource == "pods" and event.subresource == EPHEMERAL and modified(event):
        return WorkloadWrite("added an ephemeral container to", kind,
                             pod_spec(event.request_object, resource), ("ephemeralContainers",),
                             False)
    return None


def object_name(event: AuditEvent) -> str:
    """`namespace/name` of the object, the name taken from the manifest when objectRef has none
    (creates often omit it; generateName is shown with a trailing `*`)."""
    name = event.name
    if not name:
        meta = event.request_object.get("metadata") if event.request_object else None
        if isinstance(meta, Mapping):
            if isinstance(meta.get("name"), str):
                name = meta["name"]
            elif isinstance(meta.get("generateName"), str):
                name = meta["generateName"] + "*"
    return f"{event.namespace or '<cluster>'}/{name or '<unknown>'}"


def workload_title(event: AuditEvent, write: WorkloadWrite, what: str) -> str:
    """`[user] created Deployment [ns/name] <what>`."""
    return (f"[{event.username or '<unknown>'}] {write.action} {write.kind} "
            f"[{object_name(event)}] {what}")


def actor_dedup(event: AuditEvent) -> str:
    """username + namespace, separated by a character that occurs in neither."""
    return f"{event.username or ''}\x1f{event.namespace or ''}"
