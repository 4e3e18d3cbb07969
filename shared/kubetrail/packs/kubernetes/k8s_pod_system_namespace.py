"""Kubernetes.Pod.SystemNamespace: a workload created in one of the cluster's own namespaces
(kube-system, kube-public, kube-node-lease, gke-system), or a controller there modified, by
anyone but a system principal."""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import WORKLOAD_KINDS, workload_risk
from kubetrail.rules.principals import is_system_namespace, is_system_principal
from kubetrail.rules.workloads import actor_dedup, object_name, workload_write


def rule(event: AuditEvent) -> bool:
    # workload_write: created, or a controller modified (a new image in kube-proxy's DaemonSet
    # is a backdoor on every node, whatever else the patch leaves alone).
    if event.resource not in WORKLOAD_KINDS or event.subresource is not None:
        return False
    return (is_system_namespace(event.namespace) and not is_system_principal(event.username)
            and workload_write(event) is not None)


def title(event: AuditEvent) -> str:
    kind = WORKLOAD_KINDS.get(event.resource or "", "workload")
    write = workload_write(event)
    action = write.action if write else "created"
    return (f"[{event.username or '<unknown>'}] {action} {kind} "
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
