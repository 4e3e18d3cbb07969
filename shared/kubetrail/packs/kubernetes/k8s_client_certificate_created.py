"""Kubernetes.ClientCertificate.Created: a CertificateSigningRequest by a non-system principal.

An approved CSR for the kube-apiserver-client signer is a client certificate: a credential that
lives until it expires and cannot be revoked. Kubelets and bootstrap tokens
(`system:node:*`, `system:bootstrap:*`) file CSRs routinely and are excluded (exact test).
"""

from collections.abc import Mapping
from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.rbac import object_name
from kubetrail.rules.requests import created

CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"


def _spec(event: AuditEvent) -> Mapping[str, Any]:
    spec = event.request_object.get("spec") if event.request_object else None
    return spec if isinstance(spec, Mapping) else {}


def rule(event: AuditEvent) -> bool:
    return (event.resource == "certificatesigningrequests" and event.subresource is None
            and created(event) and not is_system_principal(event.username))


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] requested a certificate "
            f"[{object_name(event.request_object, event.name) or '<unknown>'}]")


def dedup(event: AuditEvent) -> str:
    return f"{event.username or ''}\x1f{object_name(event.request_object, event.name) or ''}"


def severity(event: AuditEvent) -> str:
    return "HIGH" if _spec(event).get("signerName") == CLIENT_SIGNER else "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    spec = _spec(event)
    signer, usages = spec.get("signerName"), spec.get("usages")
    return {"signer_name": signer if isinstance(signer, str) else None,
            "usages": [u for u in usages[:16] if isinstance(u, str)]
            if isinstance(usages, list) else []}
