"""Kubernetes.Events.Deleted: Kubernetes Events deleted through the API.

Events expire on their own (a TTL in etcd); nobody needs to delete them, except to hide what they
recorded (image pulls, failed mounts, exec'd pods, OOM kills). Core `events` and
`events.k8s.io` events both count, single deletes and deletecollection. The namespace
controller deletes them when a namespace goes away: system principals are excluded (exact test).
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.requests import succeeded


def rule(event: AuditEvent) -> bool:
    return (event.resource == "events" and event.subresource is None
            and event.verb in ("delete", "deletecollection") and succeeded(event)
            and not is_system_principal(event.username))


def title(event: AuditEvent) -> str:
    what = "all Events" if event.verb == "deletecollection" else f"Event [{event.name}]"
    return (f"[{event.username or '<unknown>'}] deleted {what} in namespace "
            f"[{event.namespace or '<all>'}]")


def dedup(event: AuditEvent) -> str:
    return f"{event.username or ''}\x1f{event.namespace or ''}"


def severity(event: AuditEvent) -> str:
    return "HIGH" if event.verb == "deletecollection" else "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"verb": event.verb, "namespace": event.namespace, "event": event.name}
