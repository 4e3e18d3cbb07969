"""Kubernetes.Pod.SystemNamespace: a workload created in one of the cluster's own namespaces
(kube-system, kube-public, kube-node-lease, gke-system) by anyone but a system principal."""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import WORKLOAD_KINDS, workload_risk
from kubetrail.rules.principals import is_system_namespace, is_system_principal
from kubetrail.rules.requests import created, creation
from kubetrail.rules.workloads import actor_dedup, object_name


def rule(event: AuditEvent) -> bool:
    if event.resource not in WORKLOAD_KINDS or event.subresource is not None:
        return False
    return (created(event) and is_system_namespace(event.namespace)
            and not is_system_principal(event.username))


def title(event: AuditEvent) -> str:
    kind = WORKLOAD_KINDS.get(event.resource or "", "workload")
    return (f"[{event.username or '<unknown>'}] {creation(event) or 'created'} {kind} "
            f"[{object_name(event)}] "
            "in a system namespace")


def severity(event: AuditEvent) -> str:
    return "HIGH" if workload_risk(event.request_object, event.resource)["severity"] else "DEFAULT"


def dedup(event: AuditEvent) -> str:
    return actor_dedup(event)


def alert_context(event: AuditEvent) -> dict[str, Any]:
    risk = workload_risk(event.request_object, event.resource)
    del risk["severity"]
    return risk
