"""The poison set of issue 9, as Kubernetes audit Events (EKS, AKS) and GKE audit LogEntries,
for the three functions' tests. Each record is something anyone allowed to create objects in a
cluster (or to write the log) can produce, and each one once made its whole delivery raise:

- `deep_crd`: a custom-resource create whose requestObject nests DEEP_CRD levels (CRDs that
  preserve unknown fields accept it);
- `before_year_one`: a DaemonSet create stamped `0001-01-01T00:00:00+14:00` (UTC is before year 1);
- `end_of_time`: a DaemonSet create stamped 9999-12-31T23:59:59Z (the dedup window ends after
  year 9999);
- `deep_array`: a 1000-deep array where the audit record should be (unreadable, and too deep to
  serialize back for the dead-letter message);
- `bad_host`: a DaemonSet create whose requestURI holds a malformed `[...]` host;

then `good`, an ordinary DaemonSet create the seed rule matches, after all of them.
"""

from __future__ import annotations

import json

DEEP_CRD = 5000
DEEP_ARRAY = 1000
USERS = {"before_year_one": "ancient@example.com", "end_of_time": "future@example.com",
         "bad_host": "brackets@example.com", "good": "good@example.com",
         "deep_crd": "deep@example.com"}
# end_of_time is dead-lettered because the decoders refuse times outside years 1000..8999 UTC
# (h-sources); the pipeline alone would clamp its dedup window and publish it (h-pipeline's
# tests/test_cli.py expects that). Whichever way that is settled, move it between the two sets.
POISON = ("deep_crd", "before_year_one", "end_of_time", "deep_array")
# What each poison record's dead-letter reason names (the rest of the wording is the decoder's).
REASON = {"deep_crd": "depth limit", "before_year_one": "0001-01-01T00:00:00+14:00",
          "end_of_time": "9999-12-31T23:59:59Z", "deep_array": "got array"}


def nested_object(depth: int) -> str:
    """`{"spec":{"spec":…{}…}}`, `depth` levels, as JSON text (no recursion to build it)."""
    return '{"spec":' * depth + "{}" + "}" * depth


def nested_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def k8s_event(user: str, *, resource: str = "daemonsets", group: str = "apps",
              version: str = "v1", when: str = "2026-11-27T12:00:00.000000Z",
              uri: str | None = None, request_object: str | None = None) -> str:
    """A completed create as the API server audits it (compact JSON text); `request_object` is
    spliced in as raw JSON text, so it can nest deeper than any JSON library will write."""
    uri = uri or f"/apis/{group}/{version}/namespaces/default/{resource}"
    event = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
        "auditID": f"poison-{user}", "stage": "ResponseComplete", "requestURI": uri,
        "verb": "create", "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["203.0.113.7"], "userAgent": "kubectl/v1.31.0 (linux/amd64)",
        "objectRef": {"resource": resource, "namespace": "default", "name": "node-agent",
                      "apiGroup": group, "apiVersion": version},
        "responseStatus": {"metadata": {}, "code": 201},
        "requestObject": "@REQUEST@",
        "requestReceivedTimestamp": when, "stageTimestamp": when,
    }
    body = request_object or json.dumps({"kind": "DaemonSet", "apiVersion": "apps/v1",
                                         "metadata": {"name": "node-agent"}})
    return json.dumps(event, separators=(",", ":")).replace('"@REQUEST@"', body)


def k8s_messages() -> dict[str, str]:
    """The poison set and the good record as audit Event JSON texts (a CloudWatch message, an
    AKS `properties.log`). `deep_array` is the array's JSON text: each cloud's test puts it
    where the audit Event belongs (a log event's message, an AKS record's properties.log)."""
    return {
        "deep_crd": k8s_event(USERS["deep_crd"], resource="widgets", group="example.com",
                              request_object=nested_object(DEEP_CRD)),
        "before_year_one": k8s_event(USERS["before_year_one"], when="0001-01-01T00:00:00+14:00"),
        "end_of_time": k8s_event(USERS["end_of_time"], when="9999-12-31T23:59:59Z"),
        "deep_array": nested_array(DEEP_ARRAY),
        "bad_host": k8s_event(USERS["bad_host"],
                              uri="http://[::1/apis/apps/v1/namespaces/default/daemonsets"),
        "good": k8s_event(USERS["good"]),
    }


def gke_entry(user: str, *, method: str = "io.k8s.apps.v1.daemonsets.create",
              resource_name: str = "apps/v1/namespaces/default/daemonsets/node-agent",
              when: str = "2026-11-27T12:00:00.123456Z", request: str | None = None) -> str:
    """A GKE Admin Activity audit LogEntry as the Log Router sink publishes it (JSON text);
    `request` is spliced in as raw JSON text."""
    entry = {
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": user},
            "methodName": method, "resourceName": resource_name, "serviceName": "k8s.io",
            "requestMetadata": {"callerIp": "203.0.113.7",
                                "callerSuppliedUserAgent": "kubectl/v1.31.2 (linux/amd64)"},
            "status": {}, "request": "@REQUEST@",
        },
        "insertId": f"poison-{user}",
        "resource": {"type": "k8s_cluster", "labels": {
            "project_id": "kubetrail-test", "location": "us-central1",
            "cluster_name": "gke-prod"}},
        "timestamp": when, "receiveTimestamp": when, "severity": "NOTICE",
        "logName": "projects/kubetrail-test/logs/cloudaudit.googleapis.com%2Factivity",
    }
    body = request or json.dumps({"kind": "DaemonSet", "metadata": {"name": "node-agent"}})
    return json.dumps(entry, separators=(",", ":")).replace('"@REQUEST@"', body)


def gke_entries() -> dict[str, str]:
    """The same poison set as GKE LogEntries (Pub/Sub message data): `deep_array` is a LogEntry
    whose protoPayload is the array. GKE records no request URI for resource requests:
    `bad_host` carries the malformed host in its resourceName."""
    return {
        "deep_crd": gke_entry(USERS["deep_crd"], method="io.k8s.example.com.v1.widgets.create",
                              resource_name="example.com/v1/namespaces/default/widgets/w",
                              request=nested_object(DEEP_CRD)),
        "before_year_one": gke_entry(USERS["before_year_one"], when="0001-01-01T00:00:00+14:00"),
        "end_of_time": gke_entry(USERS["end_of_time"], when="9999-12-31T23:59:59Z"),
        "deep_array": '{"protoPayload":' + nested_array(DEEP_ARRAY) + ',"logName":"x"}',
        "bad_host": gke_entry(USERS["bad_host"],
                              resource_name="apps/v1/namespaces/default/daemonsets/[::1"),
        "good": gke_entry(USERS["good"]),
    }
