"""Kubernetes.Secrets.DumpAllNamespaces: list or watch of Secrets across all namespaces.

A cluster-wide list (`/api/v1/secrets`, no namespace) returns every Secret of the cluster in one
response. Controllers that need it run as system principals and are excluded (exact test);
anything else, including service accounts of other namespaces, is a finding.
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.requests import succeeded


def rule(event: AuditEvent) -> bool:
    return (event.resource == "secrets" and event.subresource is None
            and event.verb in ("list", "watch") and event.namespace is None
            and succeeded(event) and not is_system_principal(event.username))


def title(event: AuditEvent) -> str:
    return f"[{event.username or '<unknown>'}] listed Secrets across all namespaces"


def dedup(event: AuditEvent) -> str:
    return event.username or ""


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"username": event.username, "verb": event.verb, "request_uri": event.request_uri}
