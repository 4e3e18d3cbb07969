"""Kubernetes.ConfigMap.PrivateCredentials: a ConfigMap written with data that looks like
credentials (cloud keys, private keys, tokens, passwords).

ConfigMaps are readable by far more principals than Secrets and are not encrypted at rest by the
KMS provider: credentials in one are exposed. The evidence (kubetrail.rules.credentials, bounded
work on any size) names the data keys and the kind of credential, never the value. The pack's
exclusion applies: the cluster's own components in its own namespaces.
"""

import binascii
from collections.abc import Mapping
from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.credentials import credential_evidence
from kubetrail.rules.principals import system_in_system_namespace
from kubetrail.rules.rbac import object_name
from kubetrail.rules.requests import created_or_modified

MAX_BINARY_CHARS = 256 * 1024


def _binary_data(body: Mapping[str, Any]) -> dict[str, str]:
    """`binaryData` (base64 values) decoded as text: the same credentials, one encoding away."""
    import base64  # (here: loading the pack does not import it)

    raw = body.get("binaryData")
    out: dict[str, str] = {}
    budget = MAX_BINARY_CHARS
    for key, value in raw.items() if isinstance(raw, Mapping) else ():
        if budget <= 0:
            break
        if isinstance(key, str) and isinstance(value, str):
            text = value[:budget]
            budget -= len(text)
            try:
                out[key] = base64.b64decode(text + "=" * (-len(text) % 4)).decode(
                    "utf-8", "replace")
            except (binascii.Error, ValueError):
                continue
    return out


def _evidence(event: AuditEvent) -> list[dict[str, str]]:
    body = event.request_object or {}
    data = body.get("data")
    found = credential_evidence(data)
    binary = _binary_data(body)
    return found + credential_evidence(binary) if binary else found


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
