"""Kubernetes.Ingress.NoTLS: an Ingress created or replaced without any TLS section.

Only a whole manifest can show that TLS is absent: a create (server-side apply that creates
included) or an update. A patch carries only its changes, so a patch is judged only when it
creates the object, or when it removes or empties the TLS section. The pack's exclusion
applies: the cluster's own components in its own namespaces.
"""

from collections.abc import Mapping
from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import system_in_system_namespace
from kubetrail.rules.rbac import object_name
from kubetrail.rules.requests import created, succeeded


def _spec(event: AuditEvent) -> Mapping[str, Any] | None:
    spec = event.request_object.get("spec") if event.request_object else None
    return spec if isinstance(spec, Mapping) else None


def _tls_removed(event: AuditEvent) -> bool:
    """A patch that removes or empties the TLS section (`"tls": null` or `[]` in a merge or
    strategic merge patch, a JSON patch `remove` of /spec/tls)."""
    spec = _spec(event)
    return (event.verb == "patch" and succeeded(event) and spec is not None and "tls" in spec
            and spec["tls"] in (None, []))


def rule(event: AuditEvent) -> bool:
    if event.subresource is not None or system_in_system_namespace(event):
        return False
    if _tls_removed(event):
        return True
    if not (created(event) or (event.verb == "update" and succeeded(event))):
        return False
    spec = _spec(event)
    if spec is None:
        return False  # no manifest to judge (e.g. a log without requestObject)
    tls = spec.get("tls")
    return not (isinstance(tls, list) and tls)


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] deployed Ingress "
            f"[{event.namespace or '<unknown>'}/"
            f"{object_name(event.request_object, event.name) or '<unknown>'}] without TLS")


def dedup(event: AuditEvent) -> str:
    return (f"{event.namespace or ''}\x1f"
            f"{object_name(event.request_object, event.name) or ''}")


def alert_context(event: AuditEvent) -> dict[str, Any]:
    rules = (_spec(event) or {}).get("rules")
    hosts = [r.get("host") for r in rules[:32] if isinstance(r, Mapping)] \
        if isinstance(rules, list) else []
    return {"hosts": [h for h in hosts if isinstance(h, str)]}
