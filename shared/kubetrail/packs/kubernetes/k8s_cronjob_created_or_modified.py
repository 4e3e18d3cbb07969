"""Kubernetes.CronJob.CreatedOrModified: a CronJob created (server-side apply included),
updated or patched. Scheduled jobs are a classic persistence: they come back after cleanup."""

from collections.abc import Mapping
from typing import Any

from kubetrail.events import AuditEvent
from kubetrail.rules.podspec import workload_risk
from kubetrail.rules.workloads import actor_dedup, workload_title, workload_write


def rule(event: AuditEvent) -> bool:
    write = workload_write(event)
    return write is not None and write.kind == "CronJob"


def title(event: AuditEvent) -> str:
    write = workload_write(event)
    assert write is not None
    spec = (event.request_object or {}).get("spec")
    schedule = spec.get("schedule") if isinstance(spec, Mapping) else None
    return workload_title(event, write, f"(schedule {schedule!r})" if schedule else "").rstrip()


def severity(event: AuditEvent) -> str:
    return workload_risk(event.request_object, "cronjobs")["severity"] or "DEFAULT"


def dedup(event: AuditEvent) -> str:
    return actor_dedup(event)


def alert_context(event: AuditEvent) -> dict[str, Any]:
    risk = workload_risk(event.request_object, "cronjobs")
    del risk["severity"]
    return risk
