"""Kubernetes.AdmissionController.Created: a mutating or validating webhook configuration created
or modified.

A webhook sees (and, when mutating, rewrites) every object the API server admits: an attacker's
webhook can inject containers into new pods, read Secrets as they are written, or fail-close the
cluster. Webhook configurations are cluster-scoped, so the pack's namespace-based exclusion cannot
apply; the cluster's own managers (AKS, GKE, EKS add-ons running as system principals) are
excluded instead (exact test).
"""

from collections.abc import Mapping
from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.rbac import object_name
from kubetrail.rules.requests import created_or_modified

MAX_WEBHOOKS = 16
# In-process CEL mutation (no webhook needed): a policy and the binding that activates it.
POLICIES = frozenset({"mutatingadmissionpolicies", "mutatingadmissionpolicybindings"})


def _mutating(event: AuditEvent) -> bool:
    return event.resource == "mutatingwebhookconfigurations" or event.resource in POLICIES


def _webhooks(event: AuditEvent) -> list[dict[str, Any]]:
    hooks = event.request_object.get("webhooks") if event.request_object else None
    out = []
    for hook in hooks[:MAX_WEBHOOKS] if isinstance(hooks, list) else []:
        if not isinstance(hook, Mapping):
            continue
        client = hook.get("clientConfig")
        client = client if isinstance(client, Mapping) else {}
        service = client.get("service")
        service = service if isinstance(service, Mapping) else {}
        out.append({"name": hook.get("name"), "url": client.get("url"),
                    "service": f"{service.get('namespace')}/{service.get('name')}"
                    if service else None,
                    "failure_policy": hook.get("failurePolicy")})
    return out


def rule(event: AuditEvent) -> bool:
    return (event.subresource is None and created_or_modified(event)
            and not is_system_principal(event.username))


def title(event: AuditEvent) -> str:
    kind = "mutating" if _mutating(event) else "validating"
    what = "admission webhook"
    if event.resource in POLICIES:
        what = ("admission policy binding" if event.resource.endswith("bindings")
                else "admission policy")
    action = "created" if event.verb == "create" else "changed"
    return (f"[{event.username or '<unknown>'}] {action} {kind} {what} "
            f"[{object_name(event.request_object, event.name) or '<unknown>'}]")


def dedup(event: AuditEvent) -> str:
    return (f"{event.username or ''}\x1f{event.resource or ''}\x1f"
            f"{object_name(event.request_object, event.name) or ''}")


def severity(event: AuditEvent) -> str:
    return "HIGH" if _mutating(event) else "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"webhooks": _webhooks(event)}
