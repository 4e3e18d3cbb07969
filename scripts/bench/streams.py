"""The benchmark's realistic streams, seeded and cached: the same audit activity as each platform
delivers it, so `make bench` measures what users meet rather than one tuned stream.

  eks-metadata   CloudWatch-exported EKS audit Events at the Metadata level (~1 KB each)
  eks-request    the same at Request/RequestResponse level: creates, updates and patches carry
                 their request bodies (pod specs, leases, endpoint slices, events, node status)
  aks-eventhub   Event Hub bodies as AKS diagnostic settings send them: 50 kube-audit /
                 kube-audit-admin records per body, each audit Event a JSON string in
                 properties.log
  gke-pubsub     Pub/Sub push requests, each carrying one GKE LogEntry (base64 data)

Every stream holds the same mix (tests/synthetic.py): controllers' reads and lease updates,
token reviews, pod churn, events, and rarely a DaemonSet create.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from tests.synthetic import events

VERSION = 1  # bump when a generator changes: cached files carry it in their names
AKS_ID = ("/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-prod/providers/"
          "Microsoft.ContainerService/managedClusters/aks-prod-weu")
RECORDS_PER_BODY = 50
GRPC_BY_HTTP = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 500: 13, 503: 14}


def _pod_spec(rng: random.Random, name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": name.rsplit("-", 1)[0],
                                                   "pod-template-hash": f"{rng.getrandbits(32):x}"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                              "name": name.rsplit("-", 1)[0], "controller": True}]},
            "spec": {"containers": [{
                "name": "app", "image": f"registry.example/app:{rng.randrange(100)}",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                "env": [{"name": f"VAR_{i}", "value": f"value-{rng.getrandbits(24):x}"}
                        for i in range(6)],
                "volumeMounts": [{"name": "kube-api-access", "readOnly": True,
                                  "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
            }], "serviceAccountName": "default", "restartPolicy": "Always",
                "volumes": [{"name": "kube-api-access", "projected": {"sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}]}}


def _body(rng: random.Random, ev: dict[str, Any]) -> dict[str, Any] | None:
    """The request body the API server logs at Request level for this verb and resource."""
    ref, verb = ev["objectRef"], ev["verb"]
    name = ref.get("name") or "x"
    if verb == "create" and ref["resource"] == "pods":
        return _pod_spec(rng, name)
    if verb == "update" and ref["resource"] == "leases":
        return {"kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
                "metadata": {"name": name, "namespace": ref.get("namespace"),
                             "resourceVersion": str(rng.randrange(10**8))},
                "spec": {"holderIdentity": f"{name}_{rng.getrandbits(64):x}",
                         "leaseDurationSeconds": 15, "renewTime": ev["stageTimestamp"]}}
    if verb == "update" and ref["resource"] == "endpointslices":
        return {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
                "metadata": {"name": name, "namespace": ref.get("namespace")},
                "addressType": "IPv4", "ports": [{"name": "http", "port": 8080}],
                "endpoints": [{"addresses": [f"10.1.{rng.randrange(256)}.{rng.randrange(256)}"],
                               "conditions": {"ready": True}} for _ in range(4)]}
    if verb == "create" and ref["resource"] == "events":
        return {"kind": "Event", "apiVersion": "v1", "reason": "Pulled", "type": "Normal",
                "message": f"Successfully pulled image in {rng.randrange(900)}ms",
                "involvedObject": {"kind": "Pod", "name": name, "namespace": ref.get("namespace")}}
    if verb == "patch" and ref["resource"] == "nodes":
        conditions = ("MemoryPressure", "DiskPressure", "PIDPressure")
        return {"status": {"conditions": [{"type": t, "status": "False",
                                           "lastHeartbeatTime": ev["stageTimestamp"]}
                                          for t in conditions]}}
    return None


def eks_request_events(n: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(11)
    for ev in events(n, seed=7):
        body = None if "requestObject" in ev else _body(rng, ev)
        if body is not None:
            ev["level"] = "Request"
            ev["requestObject"] = body
        yield ev


def gke_entry(ev: dict[str, Any]) -> dict[str, Any]:
    """The LogEntry GKE writes for the same request (method/resource names, gRPC status)."""
    ref = ev["objectRef"]
    group = ref.get("apiGroup") or "core"
    parts = [ref["resource"]] + ([ref["subresource"]] if ref.get("subresource") else [])
    method = f"io.k8s.{group}.{ref['apiVersion']}.{'.'.join(parts)}.{ev['verb']}"
    name = f"{group}/{ref['apiVersion']}"
    if ref.get("namespace"):
        name += f"/namespaces/{ref['namespace']}"
    name += f"/{ref['resource']}" + (f"/{ref['name']}" if ref.get("name") else "")
    name += f"/{ref['subresource']}" if ref.get("subresource") else ""
    code = ev["responseStatus"]["code"]
    status = {} if code < 400 else {"code": GRPC_BY_HTTP.get(code, 2), "message": "denied"}
    proto: dict[str, Any] = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "authenticationInfo": {"principalEmail": ev["user"]["username"]},
        "authorizationInfo": [{"granted": code < 400, "permission": method, "resource": name}],
        "methodName": method, "resourceName": name, "serviceName": "k8s.io", "status": status,
        "requestMetadata": {"callerIp": ev["sourceIPs"][0],
                            "callerSuppliedUserAgent": ev["userAgent"]},
    }
    if "requestObject" in ev:
        proto["request"] = ev["requestObject"]
    return {"insertId": ev["auditID"], "logName": "projects/acme-prod/logs/"
            "cloudaudit.googleapis.com%2Factivity", "protoPayload": proto,
            "operation": {"id": ev["auditID"], "producer": "k8s.io", "first": True, "last": True},
            "receiveTimestamp": ev["stageTimestamp"], "timestamp": ev["requestReceivedTimestamp"],
            "resource": {"type": "k8s_cluster", "labels": {
                "cluster_name": "gke-prod-euw1", "location": "europe-west1",
                "project_id": "acme-prod"}}}


def _aks_record(ev: dict[str, Any]) -> dict[str, Any]:
    admin = ev["verb"] not in ("get", "list", "watch")
    return {"category": "kube-audit-admin" if admin else "kube-audit",
            "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
            "properties": {"log": orjson.dumps(ev).decode() + "\n", "stream": "stdout",
                           "pod": "kube-apiserver-6d9c7b8f5-xk2lp"},
            "resourceId": AKS_ID, "time": ev["stageTimestamp"]}


def _lines(kind: str, n: int) -> Iterator[bytes]:
    if kind == "eks-metadata":
        yield from (orjson.dumps(ev) for ev in events(n, seed=7))
    elif kind == "eks-request":
        yield from (orjson.dumps(ev) for ev in eks_request_events(n))
    elif kind == "aks-eventhub":
        batch: list[dict[str, Any]] = []
        for ev in eks_request_events(n):
            batch.append(_aks_record(ev))
            if len(batch) == RECORDS_PER_BODY:
                yield orjson.dumps({"records": batch})
                batch = []
        if batch:
            yield orjson.dumps({"records": batch})
    elif kind == "gke-pubsub":
        for i, ev in enumerate(eks_request_events(n)):
            data = base64.b64encode(orjson.dumps(gke_entry(ev))).decode()
            yield orjson.dumps({"message": {"data": data, "messageId": str(10**16 + i),
                                            "publishTime": ev["stageTimestamp"],
                                            "attributes": {"logging.googleapis.com/timestamp":
                                                           ev["requestReceivedTimestamp"]}},
                                "subscription": "projects/acme-prod/subscriptions/kubetrail"})
    else:
        raise ValueError(f"unknown stream {kind!r}")


KINDS = ("eks-metadata", "eks-request", "aks-eventhub", "gke-pubsub")


def stream(kind: str, n: int, directory: Path) -> Path:
    """The cached file of `n` events of `kind` (written once; the name carries the version)."""
    path = directory / f"{kind}-{n}-v{VERSION}.jsonl"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            for line in _lines(kind, n):
                f.write(line + b"\n")
        tmp.rename(path)
    return path
