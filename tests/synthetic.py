"""A realistic, deterministic EKS audit stream (as CloudWatch Logs stores it: one compact JSON
audit Event per line, ~1 KB each) for the benchmark and the prefilter equivalence test.

The mix follows what a busy cluster's audit log is made of: controllers' get/list/watch, lease
and endpoint updates, token and access reviews, pod churn, events — and, rarely, DaemonSet
creates (some by system principals in kube-system, some by people, some failed or dry runs)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

START = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
NODES = [f"ip-10-0-{i // 250}-{i % 250}.eu-west-1.compute.internal" for i in range(40)]
CONTROLLERS = ["system:kube-controller-manager", "system:kube-scheduler",
               "system:serviceaccount:kube-system:endpointslice-controller",
               "system:serviceaccount:kube-system:replicaset-controller",
               "system:serviceaccount:kube-system:aws-node", "eks:addon-manager",
               "system:serviceaccount:kube-system:coredns"]
PEOPLE = ["alice@example.com", "bob@example.com", "ci-deployer", "kubernetes-admin"]
NAMESPACES = ["default", "kube-system", "payments", "web", "monitoring", "kube-node-lease"]
# (weight, verb, group, version, resource, subresource, namespaced, code)
MIX = [
    (22, "get", "", "v1", "configmaps", None, True, 200),
    (13, "list", "", "v1", "pods", None, True, 200),
    (12, "watch", "", "v1", "endpoints", None, True, 200),
    (14, "update", "coordination.k8s.io", "v1", "leases", None, True, 200),
    (6, "update", "discovery.k8s.io", "v1", "endpointslices", None, True, 200),
    (5, "create", "authentication.k8s.io", "v1", "tokenreviews", None, False, 201),
    (4, "create", "authorization.k8s.io", "v1", "subjectaccessreviews", None, False, 201),
    (5, "create", "", "v1", "pods", None, True, 201),
    (3, "delete", "", "v1", "pods", None, True, 200),
    (4, "create", "", "v1", "events", None, True, 201),
    (3, "patch", "", "v1", "nodes", "status", False, 200),
    (3, "get", "apps", "v1", "daemonsets", None, True, 200),
    (2, "create", "", "v1", "serviceaccounts", "token", True, 201),
    (2, "get", "", "v1", "secrets", None, True, 403),
    (2, "list", "apps", "v1", "deployments", None, True, 200),
]
WEIGHTS = [m[0] for m in MIX]
RBAC_REASON = 'RBAC: allowed by ClusterRoleBinding "system:controller"'
USER_AGENTS = [
    "kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/abc1234/leader-election",
    "kubelet/v1.31.2 (linux/amd64) kubernetes/abc1234",
    "kubectl/v1.31.0 (darwin/arm64) kubernetes/abc1234",
    "aws-node/v1.18.5 (linux/amd64)",
]


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _event(rng: random.Random, t: datetime, spec: tuple[Any, ...], user: str) -> dict[str, Any]:
    _, verb, group, version, resource, sub, namespaced, code = spec
    ns = rng.choice(NAMESPACES) if namespaced else None
    name = f"{resource[:-1]}-{rng.randrange(10_000):04d}" if verb not in ("list", "watch") else None
    base = f"/apis/{group}/{version}" if group else f"/api/{version}"
    uri = base + (f"/namespaces/{ns}" if ns else "") + f"/{resource}" + (f"/{name}" if name else "")
    uri += f"/{sub}" if sub else ""
    if verb in ("list", "watch"):
        uri += "?resourceVersion=0&timeout=7m" + ("&watch=true" if verb == "watch" else "")
    obj_ref: dict[str, Any] = {"resource": resource, "apiVersion": version}
    if group:
        obj_ref["apiGroup"] = group
    if ns:
        obj_ref["namespace"] = ns
    if name:
        obj_ref["name"] = name
    if sub:
        obj_ref["subresource"] = sub
    ev: dict[str, Any] = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "stage": "ResponseComplete", "requestURI": uri, "verb": verb,
        "user": {"username": user,
                 "uid": f"aws-iam-authenticator:111122223333:AROA{rng.randrange(10**12)}",
                 "groups": ["system:authenticated",
                            "system:nodes" if "node" in user else "eks:users"],
                 "extra": {"accessKeyId": [f"ASIA{rng.randrange(10**12):012d}"],
                           "sessionName": [f"EKS-{rng.randrange(10**6)}"]}},
        "sourceIPs": [f"10.0.{rng.randrange(256)}.{rng.randrange(256)}"],
        "userAgent": rng.choice(USER_AGENTS),
        "objectRef": obj_ref,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": _ts(t), "stageTimestamp": _ts(t + timedelta(milliseconds=7)),
        "annotations": {
            "authorization.k8s.io/decision": "allow" if code < 400 else "forbid",
            "authorization.k8s.io/reason": RBAC_REASON,
        },
    }
    return ev


def _daemonset(rng: random.Random, t: datetime) -> dict[str, Any]:
    user, ns = rng.choice([
        ("system:serviceaccount:kube-system:daemon-set-controller", "kube-system"),
        ("eks:addon-manager", "kube-system"), ("alice@example.com", "monitoring"),
        ("ci-deployer", "kube-system"), ("bob@example.com", "default"),
    ])
    code = rng.choice([201, 201, 201, 403, 409])
    ev = _event(rng, t, (0, "create", "apps", "v1", "daemonsets", None, True, code), user)
    ev["objectRef"]["namespace"] = ns
    ev["requestURI"] = (f"/apis/apps/v1/namespaces/{ns}/daemonsets"
                        + rng.choice(["", "", "?dryRun=All"]))
    ev["level"] = "Request"
    ev["requestObject"] = {"kind": "DaemonSet", "apiVersion": "apps/v1",
                           "metadata": {"name": ev["objectRef"].get("name"), "namespace": ns},
                           "spec": {"template": {"spec": {
                               "hostPID": rng.random() < 0.3,
                               "containers": [{
                                   "name": "agent", "image": "registry.example/agent:1.2",
                                   "securityContext": {"privileged": rng.random() < 0.3}}],
                               "volumes": [{"name": "host", "hostPath": {
                                   "path": rng.choice(["/", "/var/log", "/etc"])}}],
                           }}}}
    return ev


def events(n: int, *, seed: int = 7, daemonset_every: int = 20_000) -> Iterator[dict[str, Any]]:
    """`n` audit events, one DaemonSet create in about every `daemonset_every`."""
    rng = random.Random(seed)
    t = START
    for _ in range(n):
        t += timedelta(milliseconds=rng.randrange(1, 40))
        if rng.randrange(daemonset_every) == 0:
            yield _daemonset(rng, t)
            continue
        spec = rng.choices(MIX, WEIGHTS)[0]
        user = rng.choice(CONTROLLERS + [f"system:node:{rng.choice(NODES)}"] * 3 + PEOPLE)
        yield _event(rng, t, spec, user)


def write_jsonl(path: str, n: int, **kw: Any) -> int:
    """Write `n` events as JSON lines; return the byte size."""
    size = 0
    with open(path, "wb") as f:
        for ev in events(n, **kw):
            line = orjson.dumps(ev) + b"\n"
            size += len(line)
            f.write(line)
    return size
