"""Build the bundled samples in samples/ (hand-made, realistic data modelled on the corpus records'
shapes; see samples/README.md). `python -m tests.sources.gen_samples` rewrites them;
tests/sources/test_samples.py checks the committed files are exactly what this builds."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from kubetrail.sources.cloudwatch import encode_awslogs

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
EKS_GROUP = "/aws/eks/prod-eks-01/cluster"
EKS_STREAM = "kube-apiserver-audit-5f0e2b1c9a7d4e3f8b6a0c1d2e3f4a5b"
AKS_ID = ("/SUBSCRIPTIONS/3F2504E0-4F89-11D3-9A0C-0305E82C3301/RESOURCEGROUPS/RG-PROD-WEU/"
          "PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PROD-WEU")
SA = "system:serviceaccount:"
ROLE = "arn:aws:sts::111122223333:assumed-role/platform-admins/jdoe"
KUBECTL = "kubectl/v1.29.3 (linux/amd64) kubernetes/6813625"
KUBELET = "kubelet/v1.29.3-eks-ae9a62a (linux/amd64) kubernetes/5a6b7c8"
NODE = {"username": "system:node:ip-192-168-12-34.us-west-2.compute.internal",
        "groups": ["system:nodes", "system:authenticated"]}


def go_json(value: Any) -> bytes:
    """Compact JSON as kube-apiserver writes it: Go's encoder escapes &, < and > (so a
    requestURI's `&` reads `\\u0026` in every real EKS and AKS audit line)."""
    text = orjson.dumps(value)
    return text.replace(b"&", b"\\u0026").replace(b"<", b"\\u003c").replace(b">", b"\\u003e")


def daemonset(name: str, ns: str, image: str, *, privileged: bool, host_path: str
              ) -> dict[str, Any]:
    """A DaemonSet manifest as kubectl sends it."""
    container: dict[str, Any] = {"name": name, "image": image, "resources": {},
                                 "volumeMounts": [{"name": "host", "mountPath": "/host"}]}
    container.update({"securityContext": {"privileged": True}} if privileged else {})
    return {
        "kind": "DaemonSet", "apiVersion": "apps/v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": None,
                     "labels": {"app": name}},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"creationTimestamp": None, "labels": {"app": name}},
                "spec": {"hostPID": privileged, "tolerations": [{"operator": "Exists"}],
                         "containers": [container],
                         "volumes": [{"name": "host", "hostPath": {"path": host_path}}]},
            },
            "updateStrategy": {"type": "RollingUpdate"},
        },
        "status": {"currentNumberScheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0},
    }


def exec_uri(ns: str, pod: str, *command: str, sub: str = "exec") -> str:
    """An exec/attach request URI as kubectl sends it: one `command=` per argument."""
    query = "&".join(f"command={quote(c, safe='')}" for c in command)
    return (f"/api/v1/namespaces/{ns}/pods/{pod}/{sub}?{query}&container={pod.split('-')[0]}"
            "&stderr=true&stdout=true")


def pod(name: str, ns: str, image: str, **spec: Any) -> dict[str, Any]:
    """A bare Pod manifest as kubectl run sends it."""
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": None,
                         "labels": {"run": name}},
            "spec": {"containers": [{"name": name, "image": image, "resources": {},
                                     "stdin": True, "tty": True}],
                     "restartPolicy": "Never", **spec},
            "status": {}}


def k8s_event(audit_id: str, when: str, verb: str, user: dict[str, Any], ips: list[str],
              agent: str, ref: dict[str, Any] | None, code: int, uri: str, *,
              level: str = "Metadata", stage: str = "ResponseComplete",
              request: dict[str, Any] | None = None, reason: str = "") -> dict[str, Any]:
    """An audit.k8s.io/v1 Event in the key order kube-apiserver writes."""
    event: dict[str, Any] = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level, "auditID": audit_id,
        "stage": stage, "requestURI": uri, "verb": verb, "user": user, "sourceIPs": ips,
        "userAgent": agent,
    }
    if ref is not None:
        event["objectRef"] = ref
    event["responseStatus"] = {"metadata": {}, "code": code}
    if code >= 400:
        failure = {403: "Forbidden", 404: "NotFound"}[code]
        event["responseStatus"].update(status="Failure", reason=failure)
    if request is not None:
        event["requestObject"] = request
    event["requestReceivedTimestamp"] = when
    event["stageTimestamp"] = later(when, 6)
    event["annotations"] = {"authorization.k8s.io/decision": "forbid" if code == 403 else "allow",
                            "authorization.k8s.io/reason": reason}
    return event


def later(when: str, ms: int) -> str:
    """`when` plus `ms` milliseconds, in the API server's format (microseconds, Z)."""
    moved = datetime.fromisoformat(when) + timedelta(milliseconds=ms)
    return moved.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ref(resource: str, ns: str | None, name: str | None, group: str | None = None,
        subresource: str | None = None) -> dict[str, Any]:
    """An objectRef without the fields the API server omits."""
    fields = {"resource": resource, "namespace": ns, "name": name, "apiGroup": group,
              "apiVersion": "v1", "subresource": subresource}
    return {k: v for k, v in fields.items() if v}


def eks_user(name: str, role_id: str, **extra: list[str]) -> dict[str, Any]:
    """An IAM principal as aws-iam-authenticator maps it."""
    return {"username": name, "uid": f"aws-iam-authenticator:111122223333:{role_id}",
            "groups": ["system:authenticated"], **({"extra": extra} if extra else {})}


def eks_cloudwatch_events() -> list[dict[str, Any]]:
    """One minute of prod-eks-01's audit stream, with one risky DaemonSet create."""
    admin = eks_user(ROLE, "AROAEXAMPLEADMIN0001", accessKeyId=["ASIAEXAMPLEKEY12345"],
                     arn=[ROLE], canonicalArn=["arn:aws:iam::111122223333:role/platform-admins"],
                     sessionName=["jdoe"])
    return [
        k8s_event("6c1f0a8e-3b0e-4d5f-9a51-1f9f2a7e0c11", "2024-06-11T09:14:02.118403Z",
                  "update", {"username": "system:kube-scheduler", "groups": [
                      "system:authenticated"]}, ["10.0.21.7"], "kube-scheduler/v1.29.4 (linux/"
                  "amd64) kubernetes/1c1a2b3/leader-election",
                  ref("leases", "kube-system", "kube-scheduler", "coordination.k8s.io"), 200,
                  "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler"
                  "?timeout=5s", reason="RBAC: allowed by ClusterRoleBinding"),
        k8s_event("0b7d8e21-6a4c-4f3b-8c2e-93f1a0d4b522", "2024-06-11T09:14:03.540210Z",
                  "create", NODE, ["192.168.12.34"], KUBELET,
                  ref("serviceaccounts", "kube-system", "aws-node", subresource="token"), 201,
                  "/api/v1/namespaces/kube-system/serviceaccounts/aws-node/token"),
        k8s_event("a4e2c9d0-1f6b-4b8e-a3d7-5c0e9f2b1d33", "2024-06-11T09:14:05.902771Z", "list",
                  admin, ["203.0.113.45"], KUBECTL, ref("pods", "default", None), 200,
                  "/api/v1/namespaces/default/pods?limit=500", level="Request"),
        k8s_event("e93b5a17-8c2d-4e60-b1f4-7a2d6c8e0f44", "2024-06-11T09:14:11.307645Z",
                  "create", admin, ["203.0.113.45"], KUBECTL,
                  ref("daemonsets", "default", "node-debugger", "apps"), 201,
                  "/apis/apps/v1/namespaces/default/daemonsets?fieldManager=kubectl-client-side-"
                  "apply&fieldValidation=Strict", level="Request",
                  request=daemonset("node-debugger", "default", "public.ecr.aws/docker/library/"
                                    "busybox:1.36", privileged=True, host_path="/")),
        k8s_event("5d2a7c90-4e1b-4a8f-9d3c-2b6e0a1f7c55", "2024-06-11T09:14:12.004938Z", "watch",
                  {"username": SA + "kube-system:coredns", "groups": ["system:serviceaccounts"]},
                  ["192.168.40.9"], "coredns/v1.11.1-eksbuild.4 (linux/amd64) kubernetes/0",
                  ref("endpointslices", None, None, "discovery.k8s.io"), 200,
                  "/apis/discovery.k8s.io/v1/endpointslices?allowWatchBookmarks=true&watch=true",
                  stage="ResponseStarted"),
    ]


def eks_jsonl_events() -> list[dict[str, Any]]:
    """Raw audit Events of another minute, as CloudWatch stores them (one JSON per line)."""
    deployer = {"username": SA + "ci:deployer", "uid": "4f2a9c1e-7b3d-4e8f-a6c2-1d9e0b7a3f66",
                "groups": ["system:serviceaccounts", "system:serviceaccounts:ci",
                           "system:authenticated"]}
    dev = eks_user("arn:aws:sts::111122223333:assumed-role/developers/asmith",
                   "AROAEXAMPLEDEVS00002")
    return [
        k8s_event("1e0c5b3a-9d7f-4c2e-8a16-3f5b7d9e1a77", "2024-06-11T10:02:41.512307Z",
                  "get", deployer, ["10.0.33.18"], "helm/v3.14.4", ref("secrets", "monitoring",
                                                                      "sh.helm.release.v1"), 404,
                  "/api/v1/namespaces/monitoring/secrets/sh.helm.release.v1"),
        k8s_event("7a9d1e4c-2b8f-4d3a-95e0-6c1f3b5a7d88", "2024-06-11T10:02:42.093114Z",
                  "create", deployer, ["10.0.33.18"], "helm/v3.14.4",
                  ref("daemonsets", "monitoring", "log-shipper", "apps"), 201,
                  "/apis/apps/v1/namespaces/monitoring/daemonsets", level="Request",
                  request=daemonset("log-shipper", "monitoring", "fluent/fluent-bit:3.0.4",
                                    privileged=False, host_path="/var/log")),
        k8s_event("c3f8a2d6-5e1b-4f7c-b0a9-8d2e4c6f0b99", "2024-06-11T10:03:15.660281Z",
                  "create", dev, ["198.51.100.23"], KUBECTL,
                  ref("daemonsets", "kube-system", "miner", "apps"), 403,
                  "/apis/apps/v1/namespaces/kube-system/daemonsets"),
        k8s_event("f0b6d4e8-3a2c-4e9d-8f17-5b3d9a1c7e00", "2024-06-11T10:03:20.118530Z",
                  "patch", NODE, ["192.168.12.34"], KUBELET,
                  ref("nodes", None, NODE["username"][12:], subresource="status"), 200,
                  "/api/v1/nodes/ip-192-168-12-34.us-west-2.compute.internal/status?timeout=10s"),
        # The developer execs into a web pod over WebSocket (kubectl >= 1.30: verb get) and reads
        # its service-account token; the connection is logged when it opens and when it closes.
        *(k8s_event("b8e2d4f6-0a1c-4e3b-9d5f-7a9c1e3b5d11", when, "get", dev, ["198.51.100.23"],
                    KUBECTL, ref("pods", "shop", "web-7f9c6d5b8-x2x4q", subresource="exec"), 101,
                    exec_uri("shop", "web-7f9c6d5b8-x2x4q", "sh", "-c",
                             "cat /var/run/secrets/kubernetes.io/serviceaccount/token"),
                    stage=stage)
          for when, stage in (("2024-06-11T10:04:02.731244Z", "ResponseStarted"),
                              ("2024-06-11T10:04:03.019807Z", "ResponseComplete"))),
        # ... copies the database dump out with kubectl cp (an exec running tar) ...
        k8s_event("d0f4a6b8-2c3e-4a5d-8f7b-9c1e3a5b7d22", "2024-06-11T10:05:40.118276Z", "create",
                  dev, ["198.51.100.23"], KUBECTL,
                  ref("pods", "shop", "db-0", subresource="exec"), 101,
                  exec_uri("shop", "db-0", "tar", "cf", "-", "-C", "/var/lib/postgresql",
                           "dump.sql"), stage="ResponseStarted"),
        # ... and forwards the database port to the laptop.
        k8s_event("e2a6c8d0-4e5f-4c7b-a1d9-3b5f7c9e1a33", "2024-06-11T10:06:12.440918Z", "get",
                  dev, ["198.51.100.23"], KUBECTL,
                  ref("pods", "shop", "db-0", subresource="portforward"), 101,
                  "/api/v1/namespaces/shop/pods/db-0/portforward?ports=5432",
                  stage="ResponseStarted"),
        # The CI deployer server-side applies a new CronJob: verb patch, answered 201 Created.
        k8s_event("f4c8e0a2-6a7b-4e9d-b3f1-5d7b9e1c3f44", "2024-06-11T10:07:30.905163Z", "patch",
                  deployer, ["10.0.33.18"], "kubectl/v1.30.1 (linux/amd64) kubernetes/6911225",
                  ref("cronjobs", "monitoring", "log-rotate", "batch"), 201,
                  "/apis/batch/v1/namespaces/monitoring/cronjobs/log-rotate?fieldManager=kubectl"
                  "&fieldValidation=Strict&force=false", level="Request",
                  request={"apiVersion": "batch/v1", "kind": "CronJob",
                           "metadata": {"name": "log-rotate", "namespace": "monitoring"},
                           "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {
                               "template": {"spec": {"restartPolicy": "OnFailure",
                                                     "containers": [{
                                                         "name": "rotate",
                                                         "image": "busybox:1.36"}]}}}}}}),
    ]


def aks_record(category: str, event: dict[str, Any] | str, when: str) -> dict[str, Any]:
    """A diagnostic-settings record as Event Hub delivers it (log string ends with a newline)."""
    log = event if isinstance(event, str) else go_json(event).decode() + "\n"
    return {"category": category,
            "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
            "properties": {"pod": "kube-apiserver-6d9c7b8f5-xk2lp", "log": log, "stream": "stdout",
                           "containerID": "9c1e4b7a2d5f8e0b3c6a9d2f5e8b1c4a" * 2},
            "resourceId": AKS_ID, "serviceBuild": "na", "time": when}


def aks_body() -> dict[str, Any]:
    """An Event Hub body with kube-audit, kube-audit-admin and one non-audit record."""
    aks = {"username": "aksService", "groups": ["system:masters", "system:authenticated"]}
    alice = {"username": "alice@contoso.com", "groups": ["3e5a7c9d-1b2f-4a6e-8c0d-2f4b6d8e0a1c",
                                                         "system:authenticated"]}
    events = [
        ("kube-audit-admin", k8s_event(
            "2b4d6f80-1a3c-4e5f-9b7d-0c2e4a6f8b10", "2024-06-11T11:20:07.441806Z", "update", aks,
            ["172.31.35.83"], "csi-resizer/v0.0.0 (linux/amd64) kubernetes/$Format",
            ref("leases", "kube-system", "external-resizer-disk-csi-azure-com",
                "coordination.k8s.io"), 200, "/apis/coordination.k8s.io/v1/namespaces/kube-"
            "system/leases/external-resizer-disk-csi-azure-com")),
        ("kube-audit-admin", k8s_event(
            "8e0a2c4f-6b1d-4a3e-b5c7-9d1f3e5a7c21", "2024-06-11T11:20:31.907213Z", "create", aks,
            ["172.31.35.83"], "addon-manager/v0.0.0 (linux/amd64) kubernetes/$Format",
            ref("daemonsets", "kube-system", "azure-ip-masq-agent", "apps"), 201,
            "/apis/apps/v1/namespaces/kube-system/daemonsets", level="Request",
            request=daemonset("azure-ip-masq-agent", "kube-system", "mcr.microsoft.com/aks/ip-"
                              "masq-agent-v2:v0.1.11", privileged=False, host_path="/run"))),
        ("kube-audit", k8s_event(
            "4c6e8a0b-2d3f-4b5a-8c7e-1f3a5c7e9b32", "2024-06-11T11:21:02.250118Z", "get",
            {"username": "nodeclient", "groups": ["system:nodes", "system:authenticated"]},
            ["10.224.0.4"], "kubelet/v1.29.4 (linux/amd64) kubernetes/9e0d0aa",
            ref("configmaps", "kube-system", "kube-root-ca.crt"), 200,
            "/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt")),
        ("kube-audit-admin", k8s_event(
            "9f1b3d5e-7a2c-4e6f-a0b8-3c5e7a9d1f43", "2024-06-11T11:22:48.613520Z", "create", alice,
            ["203.0.113.77"], KUBECTL, ref("daemonsets", "default", "docker-cleaner", "apps"), 201,
            "/apis/apps/v1/namespaces/default/daemonsets?fieldManager=kubectl-client-side-apply"
            "&fieldValidation=Strict", level="Request",
            request=daemonset("docker-cleaner", "default", "docker.io/library/docker:26-cli",
                              privileged=True, host_path="/var/run/docker.sock"))),
    ]
    events += [
        ("kube-audit", k8s_event(
            "0a2c4e6f-8b1d-4f3a-9c5e-7d9f1b3d5f54", "2024-06-11T11:24:10.092347Z", "create", alice,
            ["203.0.113.77"], KUBECTL,
            ref("pods", "kube-system", "coredns-5d8f7c6b9-q7w2e", subresource="exec"), 101,
            exec_uri("kube-system", "coredns-5d8f7c6b9-q7w2e", "/bin/sh"),
            stage="ResponseStarted")),
        ("kube-audit-admin", k8s_event(
            "1b3d5f7a-9c2e-4a4b-8d6f-8e0a2c4e6a65", "2024-06-11T11:25:33.581902Z", "patch", alice,
            ["203.0.113.77"], KUBECTL,
            ref("pods", "payments", "api-6c9d8b7f5-m3n4p", subresource="ephemeralcontainers"), 200,
            "/api/v1/namespaces/payments/pods/api-6c9d8b7f5-m3n4p/ephemeralcontainers",
            level="Request", request={"spec": {"ephemeralContainers": [{
                "name": "debugger-8xk2p", "image": "docker.io/library/busybox:1.36",
                "targetContainerName": "api", "stdin": True, "tty": True,
                "securityContext": {"privileged": True}}]}})),
    ]
    records = [aks_record(c, e, e["stageTimestamp"][:-1] + "417Z") for c, e in events]
    records.insert(2, aks_record("kube-apiserver", "I0611 11:20:40.118204      11 "
                                 "controller.go:624] quota admission added evaluator for: "
                                 "leases.coordination.k8s.io\n", "2024-06-11T11:20:40.1182040Z"))
    return {"records": records}


def gke_entry(insert_id: str, when: str, method: str, resource_name: str, principal: str,
              ip: str, agent: str, *, status: dict[str, Any],
              request: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Cloud Logging LogEntry of a GKE (k8s.io) audit log, as the Log Router exports it."""
    proto: dict[str, Any] = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "authenticationInfo": {"principalEmail": principal},
        "authorizationInfo": [{"granted": status.get("code", 0) != 7,
                               "permission": method, "resource": resource_name}],
        "methodName": method, "requestMetadata": {"callerIp": ip,
                                                  "callerSuppliedUserAgent": agent},
        "resourceName": resource_name, "serviceName": "k8s.io", "status": status,
    }
    if request is not None:
        kind = request.get("kind", "DaemonSet")
        group = "core" if kind == "Pod" else "apps"
        proto["request"] = {"@type": f"{group}.k8s.io/v1.{kind}", **request}
    return {
        "insertId": insert_id, "logName": "projects/acme-prod/logs/cloudaudit.googleapis.com"
        "%2Factivity", "operation": {"first": True, "id": insert_id, "last": True,
                                     "producer": "k8s.io"},
        "protoPayload": proto, "receiveTimestamp": later(when, 1840)[:-1] + "311Z",
        "resource": {"labels": {"cluster_name": "gke-prod-euw1", "location": "europe-west1",
                                "project_id": "acme-prod"}, "type": "k8s_cluster"},
        "timestamp": when,
    }


def gke_entries() -> list[dict[str, Any]]:
    """GKE LogEntries for gke-logentries.jsonl: system noise, a refused and a risky create."""
    kubectl = "kubectl/v1.30.1 (darwin/arm64) kubernetes/6911225"
    return [
        gke_entry("91515bc0-f1e8-4365-9bf5-e24ce587b654", "2024-06-11T12:30:04.966334Z",
                  "io.k8s.coordination.v1.leases.update", "coordination.k8s.io/v1/namespaces/kube-"
                  "system/leases/gcp-controller-manager", "system:gcp-controller-manager",
                  "172.16.0.3", "gcp-controller-manager/v0.0.0 (linux/amd64) kubernetes/$Format/"
                  "leader-election", status={"code": 0}),
        gke_entry("0c5e7a9b-1d3f-4b6e-8a2c-4e6f8b0d2a55", "2024-06-11T12:31:10.208817Z",
                  "io.k8s.apps.v1.daemonsets.create", "apps/v1/namespaces/kube-system/"
                  "daemonsets/miner", "contractor@acme.example", "198.51.100.4", kubectl,
                  status={"code": 7, "message": "PERMISSION_DENIED"}),
        gke_entry("6a8c0e2f-4b5d-4f7a-9c1e-3a5c7e9f1b66", "2024-06-11T12:32:45.771093Z",
                  "io.k8s.apps.v1.daemonsets.create", "apps/v1/namespaces/default/daemonsets/"
                  "metrics-agent", "dev@acme.example", "198.51.100.4", kubectl, status={},
                  request=daemonset("metrics-agent", "default", "docker.io/prom/node-exporter:"
                                    "v1.8.1", privileged=False, host_path="/proc")),
        gke_entry("7b9d1f3a-5c6e-4a8b-8d2f-4b6d8f0a2c77", "2024-06-11T12:35:02.114620Z",
                  "io.k8s.core.v1.pods.create", "core/v1/namespaces/kube-system/pods/netshoot",
                  "dev@acme.example", "198.51.100.4", kubectl, status={},
                  request=pod("netshoot", "kube-system", "docker.io/nicolaka/netshoot:v0.13",
                              hostNetwork=True)),
    ]


def gke_push() -> dict[str, Any]:
    """A Pub/Sub push request carrying one LogEntry: a privileged, host-root DaemonSet create."""
    entry = gke_entry("d2f4a6c8-0e1b-4d3f-a5c7-9e1b3d5f7a77", "2024-06-11T12:40:19.305512Z",
                      "io.k8s.apps.v1.daemonsets.create", "apps/v1/namespaces/ops/daemonsets/"
                      "node-shell", "ops-bot@acme-prod.iam.gserviceaccount.com", "34.77.12.5",
                      "kubectl/v1.30.1 (linux/amd64) kubernetes/6911225", status={},
                      request=daemonset("node-shell", "ops", "docker.io/library/alpine:3.20",
                                        privileged=True, host_path="/"))
    data, msg_id, at = base64.b64encode(orjson.dumps(entry)).decode(), "11587423116912034", \
        "2024-06-11T12:40:21.47Z"
    return {"message": {"attributes": {"logging.googleapis.com/timestamp": entry["timestamp"]},
                        "data": data, "messageId": msg_id, "message_id": msg_id,
                        "publishTime": at, "publish_time": at},
            "subscription": "projects/acme-prod/subscriptions/kubetrail-gke-audit"}


def render() -> dict[str, bytes]:
    """File name → content of every sample."""
    pretty = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    messages = [go_json(e).decode() for e in eks_cloudwatch_events()]
    return {
        "eks-cloudwatch-subscription.json": orjson.dumps(
            encode_awslogs(EKS_GROUP, EKS_STREAM, messages), option=pretty),
        "eks-audit.jsonl": b"".join(go_json(e) + b"\n" for e in eks_jsonl_events()),
        "aks-eventhub-body.json": orjson.dumps(aks_body(), option=orjson.OPT_APPEND_NEWLINE),
        "gke-pubsub-push.json": orjson.dumps(gke_push(), option=pretty),
        "gke-logentries.jsonl": b"".join(orjson.dumps(e) + b"\n" for e in gke_entries()),
    }


if __name__ == "__main__":
    for name, content in render().items():
        (SAMPLES / name).write_bytes(content)
