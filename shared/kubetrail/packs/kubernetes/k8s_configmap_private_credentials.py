"""Kubernetes.ConfigMap.PrivateCredentials: a ConfigMap written with data that looks like
credentials (cloud keys, private keys, tokens, passwords).

ConfigMaps are readable by far more principals than Secrets and are not encrypted at rest by the
KMS provider: credentials in one are exposed. The evidence (kubetrail.rules.credentials, bounded
work on any size) names the data keys and the kind of credential, never the value. The pack's
exclusion applies: the cluster's own components in its own namespaces.
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.credentials import credential_evidence
from kubetrail.rules.principals import system_in_system_namespace
from kubetrail.rules.rbac import object_name
from kubetrail.rules.requests import created_or_modified


def _evidence(event: AuditEvent) -> list[dict[str, str]]:
    data = event.request_object.get("data") if event.request_object else None
    return credential_evidence(data)


def rule(event: AuditEvent) -> bool:
    return (event.subresource is None and created_or_modified(event)
            and not system_in_system_namespace(event) and bool(_evidence(event)))


def title(event: AuditEvent) -> str:
    kinds = sorted({e["kind"] for e in _evidence(event)})
    return (f"[{event.username or '<unknown>'}] stored credentials ({', '.join(kinds)}) in "
            f"ConfigMap [{event.namespace or '<unknown>'}/"
            f"{object_name(event.request_object, event.name) or '<unknown>'}]")


def dedup(event: AuditEvent) -> str:
    return (f"{event.namespace or ''}\x1f"
            f"{object_name(event.request_object, event.name) or ''}")


def severity(event: AuditEvent) -> str:
    strong = any(e["kind"] not in ("credential-key-name", "password-assignment")
                 for e in _evidence(event))
    return "HIGH" if strong else "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"evidence": _evidence(event)}
