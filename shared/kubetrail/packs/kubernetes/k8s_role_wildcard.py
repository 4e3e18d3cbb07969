"""Kubernetes.Role.Wildcard: a Role or ClusterRole granting `*` verbs or `*` resources.

A wildcard grants today's and tomorrow's resources (CRDs included) and verbs such as `escalate`,
`bind` and `impersonate`. The API server reconciles the built-in roles (cluster-admin is all
wildcards), so system principals are excluded (exact test). A patch is judged on the rules it
sends.
"""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.principals import is_system_principal
from kubetrail.rules.rbac import WILDCARD, object_name, policy_rules
from kubetrail.rules.requests import created_or_modified


def _wild(event: AuditEvent) -> list[dict[str, list[str]]]:
    return [{"verbs": sorted(r.verbs), "resources": sorted(r.resources),
             "apiGroups": sorted(r.api_groups)}
            for r in policy_rules(event.request_object)
            if WILDCARD in r.verbs or WILDCARD in r.resources]


def rule(event: AuditEvent) -> bool:
    return (event.subresource is None and created_or_modified(event)
            and not is_system_principal(event.username) and bool(_wild(event)))


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] wrote {event.resource} "
            f"[{object_name(event.request_object, event.name) or '<unknown>'}] with wildcard "
            "permissions")


def dedup(event: AuditEvent) -> str:
    return (f"{event.username or ''}\x1f{event.namespace or ''}\x1f"
            f"{object_name(event.request_object, event.name) or ''}")


def severity(event: AuditEvent) -> str:
    full = any(WILDCARD in r.verbs and WILDCARD in r.resources
               for r in policy_rules(event.request_object))
    return "CRITICAL" if full else "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"wildcard_rules": _wild(event)[:10]}
