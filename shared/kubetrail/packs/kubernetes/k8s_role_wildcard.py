"""Kubernetes.Role.Wildcard: a Role or ClusterRole granting `*` verbs or `*` resources.

A wildcard grants today's and tomorrow's resources (CRDs included) and verbs such as `escalate`,
`bind` and `impersonate`. The API server reconciles the built-in roles (cluster-admin is all
wildcards), so system principals are excluded (exact test). A patch is judged on the rules it
sends.

A ClusterRole with an `aggregationRule` is a wildcard of another kind: its rules are whatever
the ClusterRoles its selectors match grant, filled in later by the aggregation controller (a
system principal, so that write is excluded). Selecting the built-in roles (or an empty
selector, which matches every ClusterRole) pulls in cluster-admin's `*` on `*`: the request that
sets the aggregation rule is the one to report. Creating one requires escalate rights or
cluster-admin, so it is rare outside the cluster's own roles.
"""

from collections.abc import Mapping
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


def _aggregation_selectors(event: AuditEvent) -> list[Any] | None:
    """The clusterRoleSelectors of an aggregationRule in the body, None when it has none."""
    body = event.request_object
    agg = body.get("aggregationRule") if isinstance(body, Mapping) else None
    if not isinstance(agg, Mapping):
        return None
    selectors = agg.get("clusterRoleSelectors")
    return selectors[:16] if isinstance(selectors, list) else []


def rule(event: AuditEvent) -> bool:
    return (event.subresource is None and created_or_modified(event)
            and not is_system_principal(event.username)
            and (bool(_wild(event)) or _aggregation_selectors(event) is not None))


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] wrote {event.resource} "
            f"[{object_name(event.request_object, event.name) or '<unknown>'}] "
            + ("with wildcard permissions" if _wild(event)
               else "with an aggregation rule (it gets what the roles it selects grant)"))


def dedup(event: AuditEvent) -> str:
    return (f"{event.username or ''}\x1f{event.namespace or ''}\x1f"
            f"{object_name(event.request_object, event.name) or ''}")


def severity(event: AuditEvent) -> str:
    full = any(WILDCARD in r.verbs and WILDCARD in r.resources
               for r in policy_rules(event.request_object))
    selectors = _aggregation_selectors(event) or []
    everything = any(s == {} or (isinstance(s, Mapping) and not any(s.values()))
                     for s in selectors)  # an empty selector matches every ClusterRole
    return "CRITICAL" if full or everything else "DEFAULT"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    return {"wildcard_rules": _wild(event)[:10],
            "aggregation_selectors": _aggregation_selectors(event)}
