"""AKS diagnostic records as Azure Monitor streams them to Event Hub (category kube-audit-admin,
`properties.log` = the audit Event as a JSON string ending in a newline), for the Azure tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
RESOURCE_ID = ("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG-AKS/"
               "PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/{cluster}")


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def audit_event(user: str = "alice@example.com", namespace: str = "default",
                name: str = "node-agent", *, at: datetime = T0, verb: str = "create",
                resource: str = "daemonsets", code: int = 201) -> dict[str, Any]:
    """A completed audit Event (level Request) for a namespaced apps/v1 resource."""
    return {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
        "auditID": f"{user}-{namespace}-{name}-{at.timestamp()}", "stage": "ResponseComplete",
        "requestURI": f"/apis/apps/v1/namespaces/{namespace}/{resource}", "verb": verb,
        "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["203.0.113.7"], "userAgent": "kubectl/v1.31.0 (linux/amd64)",
        "objectRef": {"resource": resource, "namespace": namespace, "name": name,
                      "apiGroup": "apps", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": code},
        "requestObject": {"kind": "DaemonSet", "apiVersion": "apps/v1",
                          "metadata": {"name": name, "namespace": namespace},
                          "spec": {"template": {"spec": {"containers": [
                              {"name": "agent", "image": "busybox:1.36"}]}}}},
        "requestReceivedTimestamp": _ts(at),
        "stageTimestamp": _ts(at + timedelta(milliseconds=9)),
    }


def aks_record(event: dict[str, Any], *, cluster: str = "AKS-PROD",
               category: str = "kube-audit-admin") -> dict[str, Any]:
    """One diagnostic record around an audit Event."""
    return {
        "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
        "category": category, "resourceId": RESOURCE_ID.format(cluster=cluster),
        "time": event.get("stageTimestamp", _ts(T0)),
        "properties": {"log": json.dumps(event) + "\n", "stream": "stdout",
                       "pod": "kube-apiserver-6d5b7c9f4-abcde"},
    }


def body(*records: dict[str, Any]) -> bytes:
    """An Event Hub event body as diagnostic settings send it."""
    return json.dumps({"records": list(records)}).encode()


def daemonset_created(user: str, namespace: str = "default", *, minutes: int = 0,
                      cluster: str = "AKS-PROD") -> dict[str, Any]:
    """A record the seed rule matches (a person creating a DaemonSet)."""
    return aks_record(audit_event(user, namespace, at=T0 + timedelta(minutes=minutes)),
                      cluster=cluster)
