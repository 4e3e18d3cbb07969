"""Kubernetes.ServiceAccount.TokenCreated: a token minted for a service account on request.

`create serviceaccounts/token` (TokenRequest, what `kubectl create token` does) hands out a
bearer token of that account. The kubelet and the control plane do it all day and are excluded
(is_system_principal, exact); a person or another workload doing it is a finding.
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.requests import succeeded


def rule(event: AuditEvent) -> bool:
    return (event.resource == "serviceaccounts" and event.subresource == "token"
            and event.verb == "create" and succeeded(event)
            and not is_system_principal(event.username))


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] created a token for service account "
            f"[{event.namespace or '<unknown>'}/{event.name or '<unknown>'}]")


def dedup(event: AuditEvent) -> str:
    return f"{event.username or ''}\x1f{event.namespace or ''}\x1f{event.name or ''}"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    spec = event.request_object.get("spec") if event.request_object else None
    seconds = spec.get("expirationSeconds") if isinstance(spec, dict) else None
    return {"service_account": f"{event.namespace}/{event.name}",
            "expiration_seconds": seconds if isinstance(seconds, int) else None}
