"""Real inputs for the GCP function: GKE audit LogEntries as Cloud Logging writes them, wrapped
the way the Log Router sink (one LogEntry per Pub/Sub message) and Eventarc (a
`google.cloud.pubsub.topic.v1.messagePublished` CloudEvent) deliver them."""

from __future__ import annotations

import base64
import importlib.util
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
from cloudevents.http import CloudEvent

FUNCTION_DIR = Path(__file__).resolve().parents[3] / "functions" / "gcp"
TOPIC = "//pubsub.googleapis.com/projects/kubetrail-test/topics/kubetrail-gke-audit"
SUBSCRIPTION = "projects/kubetrail-test/subscriptions/eventarc-us-central1-kubetrail-sub-042"


def load_main() -> ModuleType:
    """A fresh instance of functions/gcp/main.py (own cache of clients), as the runtime loads it."""
    if str(FUNCTION_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTION_DIR))
    spec = importlib.util.spec_from_file_location(f"gcp_main_{uuid.uuid4().hex}",
                                                  FUNCTION_DIR / "main.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def daemonset_entry(user: str = "alice@example.com", namespace: str = "default",
                    name: str = "node-agent", when: str = "2026-11-27T12:00:00.123456Z",
                    cluster: str = "gke-prod", status: dict[str, Any] | None = None
                    ) -> dict[str, Any]:
    """A GKE `io.k8s.apps.v1.daemonsets.create` Admin Activity audit LogEntry."""
    resource_name = f"apps/v1/namespaces/{namespace}/daemonsets/{name}"
    return {
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": user},
            "authorizationInfo": [{"granted": True, "resource": resource_name,
                                   "permission": "io.k8s.apps.v1.daemonsets.create"}],
            "methodName": "io.k8s.apps.v1.daemonsets.create",
            "requestMetadata": {"callerIp": "203.0.113.7",
                                "callerSuppliedUserAgent": "kubectl/v1.31.2 (linux/amd64)"},
            "resourceName": resource_name,
            "serviceName": "k8s.io",
            "status": status if status is not None else {},
            "request": {"apiVersion": "apps/v1", "kind": "DaemonSet",
                        "metadata": {"name": name, "namespace": namespace},
                        "spec": {"template": {"spec": {"containers": [
                            {"name": "agent", "image": "example.com/agent:1.2"}]}}}},
        },
        "insertId": uuid.uuid4().hex,
        "resource": {"type": "k8s_cluster", "labels": {
            "project_id": "kubetrail-test", "location": "us-central1", "cluster_name": cluster}},
        "timestamp": when,
        "severity": "NOTICE",
        "logName": "projects/kubetrail-test/logs/cloudaudit.googleapis.com%2Factivity",
        "operation": {"id": str(uuid.uuid4()), "producer": "k8s.io", "first": True, "last": True},
        "receiveTimestamp": when,
    }


def cloud_event(data: bytes | dict[str, Any], message_id: str | None = None) -> CloudEvent:
    """An Eventarc messagePublished CloudEvent whose Pub/Sub message data is `data` (a LogEntry
    dict is serialized as the sink does; bytes are sent as they are)."""
    message_id = message_id or str(uuid.uuid4().int)[:16]
    raw = data if isinstance(data, bytes) else orjson.dumps(data)
    published = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    message = {"data": base64.b64encode(raw).decode(), "messageId": message_id,
               "message_id": message_id, "publishTime": published, "publish_time": published,
               "attributes": {"logging.googleapis.com/timestamp": published}}
    attributes = {"specversion": "1.0", "id": message_id, "source": TOPIC,
                  "type": "google.cloud.pubsub.topic.v1.messagePublished",
                  "datacontenttype": "application/json", "time": published}
    return CloudEvent(attributes, {"message": message, "subscription": SUBSCRIPTION})
