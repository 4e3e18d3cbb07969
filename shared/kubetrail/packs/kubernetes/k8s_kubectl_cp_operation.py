"""Kubernetes.Kubectl.CP.Operation: `kubectl cp` (an exec running tar) copying files out of a
pod (tar create) or into one (tar extract), or tar run by exec directly."""

from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.execs import exec_command, shown_command, tar_direction, target_pod
from kubetrail.rules.principals import system_in_system_namespace
from kubetrail.rules.requests import kubelet_stream, streamed

EXEC = frozenset({"exec"})


def rule(event: AuditEvent) -> bool:
    stream = kubelet_stream(event)
    if stream is not None:
        if stream[0] != "exec":
            return False
    elif not streamed(event, EXEC) or system_in_system_namespace(event):
        return False
    return tar_direction(exec_command(event)) is not None


def title(event: AuditEvent) -> str:
    direction = tar_direction(exec_command(event)) or "unknown"
    return (f"[{event.username or '<unknown>'}] copied files ({direction}) with tar in pod "
            f"{target_pod(event)}")


def dedup(event: AuditEvent) -> str:
    return f"{event.username or ''}\x1f{event.namespace or ''}\x1f{event.name or ''}"


def alert_context(event: AuditEvent) -> dict[str, Any]:
    command = exec_command(event)
    return {"pod": event.name, "direction": tar_direction(command),
            "command": shown_command(command)}
