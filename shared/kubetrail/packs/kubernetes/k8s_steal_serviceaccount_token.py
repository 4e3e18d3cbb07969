"""Kubernetes.Pod.StealServiceAccountToken: an exec whose command names a service-account
token (Kubernetes, EKS IRSA, AKS workload identity, GKE projected tokens): the caller takes the
pod's identity with it, inside and often outside the cluster.

No exclusion for system principals: none of them reads tokens through exec."""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.execs import exec_command, shown_command, target_pod, token_reads
from kubetrail.rules.requests import kubelet_stream, streamed

EXEC = frozenset({"exec"})


def _exec(event: AuditEvent) -> bool:
    """An exec into a pod, directly or through the node proxy to the kubelet."""
    stream = kubelet_stream(event)
    return stream[0] == "exec" if stream is not None else streamed(event, EXEC)


def rule(event: AuditEvent) -> bool:
    return _exec(event) and bool(token_reads(exec_command(event)))


def title(event: AuditEvent) -> str:
    return (f"[{event.username or '<unknown>'}] read a service-account token in pod "
            f"{target_pod(event)}")


def dedup(event: AuditEvent) -> str:
    return f"{event.username or ''}\x1f{event.namespace or ''}\x1f{event.name or ''}"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    command = exec_command(event)
    return {"pod": event.name, "token_paths": shown_command(tuple(token_reads(command)), 16),
            "command": shown_command(command)}
