"""Evasions of the bundled pack, tried as an attacker who can send any request to the API server:
each test writes the audit record the API server would write (an EKS audit Event, an AKS
diagnostic record, a GKE LogEntry), scans it with `kubetrail scan` with and without the
prefilter, and asserts the finding is there (docs/rules.md, "Evasions considered")."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import orjson
import pytest

from kubetrail.cli import main

USER = "mallory@example.com"


def eks(verb: str, resource: str, name: str | None, body: Any, *, code: int = 200,
        namespace: str | None = "default", group: str = "", subresource: str | None = None,
        query: str = "", user: str = USER, stage: str = "ResponseComplete") -> dict[str, Any]:
    """An audit.k8s.io/v1 Event as EKS writes it to CloudWatch (and AKS inside properties.log)."""
    prefix = f"/apis/{group}/v1" if group else "/api/v1"
    path = prefix + (f"/namespaces/{namespace}" if namespace else "") + f"/{resource}"
    path += f"/{name}" if name else ""
    path += f"/{subresource}" if subresource else ""
    ref: dict[str, Any] = {"resource": resource, "apiVersion": "v1"}
    for key, value in (("namespace", namespace), ("name", name), ("apiGroup", group or None),
                       ("subresource", subresource)):
        if value:
            ref[key] = value
    event: dict[str, Any] = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": "4d2c8b1e-7f3a-4c55-9a0e-2b6f1d9e8c71", "stage": stage,
        "requestURI": path + (f"?{query}" if query else ""), "verb": verb,
        "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["10.0.12.7"], "userAgent": "kubectl/v1.31.2 (linux/amd64)",
        "objectRef": ref, "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": "2026-11-27T12:00:00.000000Z",
        "stageTimestamp": "2026-11-27T12:00:00.020000Z",
    }
    if body is not None:
        event["requestObject"] = body
    return event


def aks(event: dict[str, Any]) -> dict[str, Any]:
    """The AKS diagnostic record (Event Hub) carrying the same Event."""
    return {"category": "kube-audit", "operationName": "Microsoft.ContainerService/"
            "managedClusters/diagnosticLogs/Read", "time": "2026-11-27T12:00:00.0200000Z",
            "resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/"
            "MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/PROD",
            "properties": {"log": orjson.dumps(event).decode() + "\n", "stream": "stdout",
                           "pod": "kube-apiserver-6f9c"}}


def gke(method: str, resource_name: str, body: Any = None, *, status: Any = None,
        user: str = USER) -> dict[str, Any]:
    """A Cloud Logging LogEntry of the k8s.io service, as a GKE Log Router sink delivers it."""
    payload: dict[str, Any] = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "authenticationInfo": {"principalEmail": user},
        "authorizationInfo": [{"granted": True, "permission": method,
                               "resource": resource_name}],
        "methodName": method, "resourceName": resource_name, "serviceName": "k8s.io",
        "requestMetadata": {"callerIp": "10.0.12.7",
                            "callerSuppliedUserAgent": "kubectl/v1.31.2 (linux/amd64)"},
        "status": {} if status is None else status,
    }
    if body is not None:
        payload["request"] = body
    return {"insertId": "b7c1d3e5-0a2b-4c6d-8e9f-123456789abc", "logName":
            "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
            "operation": {"id": "b7c1d3e5-0a2b-4c6d-8e9f-123456789abc", "first": True,
                          "last": True, "producer": "k8s.io"},
            "protoPayload": payload, "receiveTimestamp": "2026-11-27T12:00:01.000000Z",
            "resource": {"type": "k8s_cluster", "labels": {
                "cluster_name": "prod", "location": "europe-west1", "project_id": "p"}},
            "severity": "NOTICE", "timestamp": "2026-11-27T12:00:00.020000Z"}


def _scan(path: Path, *extra: str) -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    out.buffer = io.BytesIO()  # type: ignore[misc]
    assert main(["scan", *extra, str(path)], out=out, err=err) == 0, err.getvalue()
    return [orjson.loads(line)
            for line in out.buffer.getvalue().splitlines()]  # type: ignore[attr-defined]


def findings(tmp_path: Path, record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """rule id -> finding of one record, scanned with and without the prefilter (identical)."""
    path = tmp_path / "records.jsonl"
    path.write_bytes(orjson.dumps(record) + b"\n")
    fast = {f["rule_id"]: f for f in _scan(path)}
    slow = {f["rule_id"]: f for f in _scan(path, "--no-prefilter")}
    assert sorted(fast) == sorted(slow)
    return fast


# --- JSON patch bodies (`kubectl patch --type=json`) ------------------------------------------

def _json_patch(*ops: tuple[str, str, Any]) -> list[dict[str, Any]]:
    return [{"op": op, "path": path, "value": value} for op, path, value in ops]


JSON_PATCHES = [
    ("Kubernetes.Pod.Privileged.Created", "daemonsets", "apps", _json_patch(
        ("add", "/spec/template/spec/containers/0/securityContext", {"privileged": True}))),
    ("Kubernetes.Pod.Host.PID", "deployments", "apps", _json_patch(
        ("add", "/spec/template/spec/hostPID", True))),
    ("Kubernetes.Pod.HostPath.Volume", "statefulsets", "apps", _json_patch(
        ("add", "/spec/template/spec/volumes/-", {"name": "h", "hostPath": {"path": "/"}}))),
    ("Kubernetes.Pod.Dangerous.Capabilities", "cronjobs", "batch", _json_patch(
        ("add", "/spec/jobTemplate/spec/template/spec/containers/0/securityContext/capabilities",
         {"add": ["SYS_ADMIN"]}))),
    ("Kubernetes.Role.Wildcard", "clusterroles", "rbac.authorization.k8s.io", _json_patch(
        ("add", "/rules/-", {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}))),
    ("Kubernetes.ClusterRoleBinding.Privileged", "clusterrolebindings",
     "rbac.authorization.k8s.io", _json_patch(
         ("add", "/subjects/-", {"kind": "Group", "name": "system:masters",
                                 "apiGroup": "rbac.authorization.k8s.io"}))),
    ("Kubernetes.Service.NodePort.Deployed", "services", "", _json_patch(
        ("replace", "/spec/type", "NodePort"))),
    ("Kubernetes.ConfigMap.PrivateCredentials", "configmaps", "", _json_patch(
        ("add", "/data/aws", "AKIAIOSFODNN7EXAMPLQ"))),
]


@pytest.mark.parametrize("wrap", [lambda e: e, aks], ids=["eks", "aks"])
@pytest.mark.parametrize(("rule_id", "resource", "group", "ops"), JSON_PATCHES,
                         ids=[p[0] for p in JSON_PATCHES])
def test_json_patch_bodies_are_judged(tmp_path: Path, wrap: Any, rule_id: str, resource: str,
                                      group: str, ops: list[dict[str, Any]]) -> None:
    cluster_scoped = resource.startswith("cluster")
    record = eks("patch", resource, "target", ops, group=group,
                 namespace=None if cluster_scoped else "default")
    assert rule_id in findings(tmp_path, wrap(record))


def test_json_patch_copy_of_a_true_field_into_a_switch_is_seen(tmp_path: Path) -> None:
    ops = [{"op": "copy", "from": "/spec/template/spec/containers/0/stdin",
            "path": "/spec/template/spec/containers/0/securityContext/privileged"}]
    record = eks("patch", "daemonsets", "agent", ops, group="apps")
    assert "Kubernetes.Pod.Privileged.Created" in findings(tmp_path, record)


def test_json_patch_that_removes_or_tests_writes_nothing(tmp_path: Path) -> None:
    ops = [{"op": "test", "path": "/spec/template/spec/hostPID", "value": True},
           {"op": "remove", "path": "/spec/template/spec/hostPID"}]
    record = eks("patch", "deployments", "web", ops, group="apps")
    assert "Kubernetes.Pod.Host.PID" not in findings(tmp_path, record)


# --- Server-side apply on GKE (verb patch; GKE records no HTTP status, so no 201) --------------

PRIVILEGED_POD = {"containers": [{"name": "x", "image": "alpine",
                                  "securityContext": {"privileged": True}}], "hostPID": True}


def _apply_body(kind: str, api_version: str, namespace: str,
                spec: dict[str, Any]) -> dict[str, Any]:
    return {"@type": "k8s.io/Patch", "apiVersion": api_version, "kind": kind,
            "metadata": {"name": "x", "namespace": namespace}, "spec": spec}


def test_server_side_apply_of_a_privileged_pod_on_gke_is_seen(tmp_path: Path) -> None:
    body = _apply_body("Pod", "v1", "default", PRIVILEGED_POD)
    found = findings(tmp_path, gke("io.k8s.core.v1.pods.patch",
                                   "core/v1/namespaces/default/pods/x", body))
    assert {"Kubernetes.Pod.Privileged.Created", "Kubernetes.Pod.Host.PID"} <= set(found)
    assert "applied" in found["Kubernetes.Pod.Privileged.Created"]["title"]


def test_server_side_apply_of_a_pod_on_eks_creates_it(tmp_path: Path) -> None:
    body = {k: v for k, v in _apply_body("Pod", "v1", "default", PRIVILEGED_POD).items()
            if k != "@type"}
    found = findings(tmp_path, eks("patch", "pods", "x", body, code=201,
                                   query="fieldManager=kubectl&force=false"))
    assert "created Pod" in found["Kubernetes.Pod.Privileged.Created"]["title"]


def test_server_side_apply_of_a_daemonset_in_kube_system_on_gke_is_seen(tmp_path: Path) -> None:
    body = _apply_body("DaemonSet", "apps/v1", "kube-system",
                       {"template": {"spec": {"containers": [{"name": "a", "image": "b"}]}}})
    found = findings(tmp_path, gke("io.k8s.apps.v1.daemonsets.patch",
                                   "apps/v1/namespaces/kube-system/daemonsets/x", body))
    assert {"Kubernetes.DaemonSet.Created", "Kubernetes.Pod.SystemNamespace"} <= set(found)


def test_a_strategic_merge_patch_on_gke_is_no_create(tmp_path: Path) -> None:
    body = {"@type": "k8s.io/Patch", "spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-11-27T12:00:00Z"}}}}}
    found = findings(tmp_path, gke("io.k8s.apps.v1.daemonsets.patch",
                                   "apps/v1/namespaces/kube-system/daemonsets/x", body))
    assert "Kubernetes.DaemonSet.Created" not in found
    assert "modified DaemonSet" in found["Kubernetes.Pod.SystemNamespace"]["title"]


# --- Exec commands hiding the token path behind shell expansions -----------------------------

HIDDEN_TOKEN_READS = [
    "cat /var/run/secrets/kubernetes.io/serviceacc{ount,x}/token",     # brace expansion
    "cat /var/run/secrets/kubernetes.io/service$@account/token",       # empty "$@"
    "cat /var/run/secrets/eks.amazonaws.com/serviceacc$()ount/token",  # empty substitution
    "cat /var/run/secrets/kubernetes.io/serviceacco``unt/token",       # empty backquotes
    "cd /var/run/secrets/kubernetes.io/;cat serviceacc{ount,}/tok{en,}",
]


@pytest.mark.parametrize("command", HIDDEN_TOKEN_READS)
def test_token_reads_behind_shell_expansions_are_seen_on_eks(tmp_path: Path,
                                                              command: str) -> None:
    query = "&".join(f"command={quote_plus(a)}" for a in ("bash", "-c", command))
    record = eks("get", "pods", "web-0", None, code=101, subresource="exec",
                 stage="ResponseStarted", query=query + "&container=web&stdin=true&tty=true")
    assert "Kubernetes.Pod.StealServiceAccountToken" in findings(tmp_path, record)


@pytest.mark.parametrize("command", HIDDEN_TOKEN_READS)
def test_token_reads_behind_shell_expansions_are_seen_on_gke(tmp_path: Path,
                                                              command: str) -> None:
    body = {"@type": "k8s.io/PodExecOptions", "command": ["bash", "-c", command],
            "container": "web", "stdin": True}
    record = gke("io.k8s.core.v1.pods.exec.create", "core/v1/namespaces/default/pods/web-0/exec",
                 body)
    assert "Kubernetes.Pod.StealServiceAccountToken" in findings(tmp_path, record)


def test_tar_behind_an_empty_expansion_is_seen(tmp_path: Path) -> None:
    query = "&".join(f"command={quote_plus(a)}" for a in ("sh", "-c", "t$@ar cf - /etc"))
    record = eks("create", "pods", "web-0", None, code=101, subresource="exec",
                 stage="ResponseStarted", query=query)
    assert "Kubernetes.Kubectl.CP.Operation" in findings(tmp_path, record)


def test_ordinary_globs_and_variables_are_no_token_read(tmp_path: Path) -> None:
    query = "&".join(f"command={quote_plus(a)}" for a in ("sh", "-c", "ls */* $HOME/a/b/c"))
    record = eks("create", "pods", "web-0", None, code=101, subresource="exec",
                 stage="ResponseStarted", query=query)
    found = findings(tmp_path, record)
    assert "Kubernetes.Pod.Exec" in found
    assert "Kubernetes.Pod.StealServiceAccountToken" not in found


# --- Bulk secret reads by field selector, and one name in many namespaces ---------------------

def _bulk(tmp_path: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    path = tmp_path / "reads.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    fast = [f for f in _scan(path) if f["rule_id"] == "Kubernetes.BulkSecretAccess"]
    slow = [f for f in _scan(path, "--no-prefilter")
            if f["rule_id"] == "Kubernetes.BulkSecretAccess"]
    assert len(fast) == len(slow)
    return fast


@pytest.mark.parametrize("verb", ["list", "watch"])
def test_secrets_read_one_by_one_through_a_field_selector_count(tmp_path: Path, verb: str) -> None:
    query = "fieldSelector=metadata.name%3Ddb-{i}" + ("&watch=true" if verb == "watch" else "")
    records = []
    for i in range(15):
        record = eks(verb, "secrets", f"db-{i}", None, namespace="prod",
                     stage="ResponseStarted" if verb == "watch" else "ResponseComplete")
        record["requestURI"] = "/api/v1/namespaces/prod/secrets?" + query.format(i=i)
        records.append(record if i % 2 else aks(record))
    assert len(_bulk(tmp_path, records)) == 1


def test_one_secret_name_in_many_namespaces_counts_once_per_namespace(tmp_path: Path) -> None:
    records = [gke("io.k8s.core.v1.secrets.get", f"core/v1/namespaces/team-{i}/secrets/registry")
               for i in range(15)]
    assert len(_bulk(tmp_path, records)) == 1


# --- The images allowlist and partial bodies -------------------------------------------------

def test_a_trusted_decoy_image_in_a_patch_does_not_allowlist_host_pid(tmp_path: Path) -> None:
    config = tmp_path / "kubetrail.yml"
    config.write_text("rules:\n  Kubernetes.Pod.Host.PID:\n    allowlist:\n"
                      "      - images: [registry.corp.example/]\n")
    decoy = {"spec": {"template": {"spec": {"hostPID": True, "containers": [
        {"name": "decoy", "image": "registry.corp.example/pause:3.9"}]}}}}
    path = tmp_path / "patch.jsonl"
    for record in (eks("patch", "deployments", "web", decoy, group="apps"),
                   gke("io.k8s.apps.v1.deployments.patch",
                       "apps/v1/namespaces/default/deployments/web",
                       {"@type": "k8s.io/Patch", **decoy})):
        path.write_bytes(orjson.dumps(record) + b"\n")
        assert "Kubernetes.Pod.Host.PID" in {f["rule_id"]
                                             for f in _scan(path, "--config", str(config))}
    # a create carries every container: there the allowlist holds
    whole = {"kind": "Deployment", "apiVersion": "apps/v1", **decoy}
    path.write_bytes(orjson.dumps(eks("create", "deployments", None, whole, group="apps",
                                      code=201)) + b"\n")
    assert "Kubernetes.Pod.Host.PID" not in {f["rule_id"]
                                             for f in _scan(path, "--config", str(config))}


# --- Aggregated ClusterRoles ------------------------------------------------------------------

AGGREGATED = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
              "metadata": {"name": "metrics-reader"},
              "aggregationRule": {"clusterRoleSelectors": [
                  {"matchLabels": {"kubernetes.io/bootstrapping": "rbac-defaults"}}]},
              "rules": []}


def test_a_cluster_role_aggregating_the_built_in_roles_is_seen(tmp_path: Path) -> None:
    eks_record = eks("create", "clusterroles", None, AGGREGATED, namespace=None, code=201,
                     group="rbac.authorization.k8s.io")
    gke_record = gke("io.k8s.authorization.rbac.v1.clusterroles.create",
                     "rbac.authorization.k8s.io/v1/clusterroles/metrics-reader",
                     {"@type": "rbac.authorization.k8s.io/v1.ClusterRole", **AGGREGATED})
    for record in (eks_record, aks(eks_record), gke_record):
        found = findings(tmp_path, record)
        assert "aggregation rule" in found["Kubernetes.Role.Wildcard"]["title"]


def test_an_empty_aggregation_selector_is_critical(tmp_path: Path) -> None:
    body = {**AGGREGATED, "aggregationRule": {"clusterRoleSelectors": [{}]}}
    found = findings(tmp_path, eks("update", "clusterroles", "metrics-reader", body,
                                   namespace=None, group="rbac.authorization.k8s.io"))
    assert found["Kubernetes.Role.Wildcard"]["severity"] == "CRITICAL"


# --- exec, attach and port-forward through the node proxy (nodes/proxy, straight to kubelet) --

def _node_proxy(path: str, verb: str = "get") -> dict[str, Any]:
    record = eks(verb, "nodes", "ip-10-0-1-20.ec2.internal", None, namespace=None, code=101,
                 subresource="proxy", stage="ResponseStarted",
                 user="system:serviceaccount:monitoring:prometheus")
    record["requestURI"] = "/api/v1/nodes/ip-10-0-1-20.ec2.internal/proxy/" + path
    return record


TOKEN_QUERY = "command=cat&command=%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken"


@pytest.mark.parametrize("wrap", [lambda e: e, aks], ids=["eks", "aks"])
@pytest.mark.parametrize(("path", "rule_ids"), [
    ("exec/kube-system/coredns-5d78c9869d-x2x8k/coredns?" + TOKEN_QUERY + "&output=1",
     {"Kubernetes.Pod.Exec", "Kubernetes.Pod.StealServiceAccountToken"}),
    ("%65xec//prod/./db-0/db?command=tar&command=cf&command=-&command=%2Fdata",
     {"Kubernetes.Pod.Exec", "Kubernetes.Kubectl.CP.Operation"}),
    ("attach/prod/db-0/db?output=1&tty=1", {"Kubernetes.Pod.Exec"}),
    ("portForward/prod/db-0?port=5432", {"Kubernetes.Pod.PortForward"}),
])
def test_streams_through_the_node_proxy_are_seen(tmp_path: Path, wrap: Any, path: str,
                                                 rule_ids: set[str]) -> None:
    found = findings(tmp_path, wrap(_node_proxy(path)))
    assert rule_ids <= set(found)
    assert "through the proxy of node" in found[sorted(rule_ids)[0]]["title"]


def test_node_proxy_metrics_and_failed_streams_are_no_exec(tmp_path: Path) -> None:
    assert findings(tmp_path, _node_proxy("metrics/cadvisor")) == {}
    denied = _node_proxy("exec/prod/db-0/db?command=sh")
    denied["responseStatus"]["code"] = 403
    assert "Kubernetes.Pod.Exec" not in findings(tmp_path, denied)


# --- Forged X-Forwarded-For: the title says which address connected ----------------------------

def test_a_forged_forwarded_for_address_is_not_shown_as_the_caller(tmp_path: Path) -> None:
    record = eks("get", "pods", None, None, user="system:node:ip-10-0-1-20.ec2.internal")
    record["sourceIPs"] = ["198.51.100.77", "8.8.8.8", "10.0.12.7"]  # header values, connection
    title = findings(tmp_path, record)["Kubernetes.System.Principal.PublicIP"]["title"]
    assert "[8.8.8.8, as forwarded by 10.0.12.7]" in title
    record["sourceIPs"] = ["10.9.9.9", "8.8.8.8"]  # the connection itself is public
    title = findings(tmp_path, record)["Kubernetes.System.Principal.PublicIP"]["title"]
    assert title.endswith("[8.8.8.8]")


# --- Any role handed to unauthenticated users ---------------------------------------------------

def test_binding_any_role_to_anonymous_is_seen(tmp_path: Path) -> None:
    body = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "public-read", "namespace": "prod"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "secret-reader"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                          "name": "system:unauthenticated"}]}
    eks_record = eks("create", "rolebindings", None, body, namespace="prod", code=201,
                     group="rbac.authorization.k8s.io")
    gke_record = gke("io.k8s.authorization.rbac.v1.rolebindings.create",
                     "rbac.authorization.k8s.io/v1/namespaces/prod/rolebindings/public-read",
                     {"@type": "rbac.authorization.k8s.io/v1.RoleBinding", **body})
    for record in (eks_record, gke_record):
        found = findings(tmp_path, record)["Kubernetes.ClusterRoleBinding.Privileged"]
        assert found["severity"] == "CRITICAL"
        assert "secret-reader to unauthenticated users" in found["title"]


# --- TLS removed from an existing Ingress by a patch -------------------------------------------

def test_a_patch_removing_an_ingress_tls_section_is_seen(tmp_path: Path) -> None:
    group = "networking.k8s.io"
    json_patch = [{"op": "remove", "path": "/spec/tls"}]
    merge_patch = {"@type": "k8s.io/Patch", "spec": {"tls": None}}
    for record in (eks("patch", "ingresses", "web", json_patch, group=group),
                   gke("io.k8s.networking.v1.ingresses.patch",
                       "networking.k8s.io/v1/namespaces/default/ingresses/web", merge_patch)):
        assert "Kubernetes.Ingress.NoTLS" in findings(tmp_path, record)
    unrelated = eks("patch", "ingresses", "web", {"metadata": {"labels": {"a": "b"}}}, group=group)
    assert "Kubernetes.Ingress.NoTLS" not in findings(tmp_path, unrelated)


# --- Mutation without a webhook: MutatingAdmissionPolicy -------------------------------------

def test_a_mutating_admission_policy_is_an_admission_controller(tmp_path: Path) -> None:
    group = "admissionregistration.k8s.io"
    policy = {"apiVersion": f"{group}/v1beta1", "kind": "MutatingAdmissionPolicy",
              "metadata": {"name": "sidecar"}, "spec": {"mutations": [{
                  "patchType": "ApplyConfiguration", "applyConfiguration": {"expression":
                      "Object{spec: Object.spec{initContainers: [Object.spec.initContainers"
                      "{name: 'x', image: 'evil/x'}]}}"}}]}}
    for record in (eks("create", "mutatingadmissionpolicies", None, policy, namespace=None,
                       group=group, code=201),
                   gke(f"io.k8s.{group.removesuffix('.k8s.io')}.v1beta1."
                       "mutatingadmissionpolicies.create",
                       f"{group}/v1beta1/mutatingadmissionpolicies/sidecar", policy)):
        found = findings(tmp_path, record)["Kubernetes.AdmissionController.Created"]
        assert found["severity"] == "HIGH" and "mutating admission policy" in found["title"]


# --- A system workload's image swapped by a user ---------------------------------------------

def test_a_new_image_in_a_kube_system_daemonset_is_seen(tmp_path: Path) -> None:
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "kube-proxy", "image": "ghcr.io/mallory/kube-proxy:v1.31.2"}]}}}}
    for record in (eks("patch", "daemonsets", "kube-proxy", patch, namespace="kube-system",
                       group="apps"),
                   gke("io.k8s.apps.v1.daemonsets.patch",
                       "apps/v1/namespaces/kube-system/daemonsets/kube-proxy",
                       {"@type": "k8s.io/Patch", **patch})):
        found = findings(tmp_path, record)["Kubernetes.Pod.SystemNamespace"]
        assert "modified DaemonSet [kube-system/kube-proxy]" in found["title"]


# --- The node's root through a PersistentVolume (no hostPath in the pod) ----------------------

def test_a_host_path_persistent_volume_is_seen(tmp_path: Path) -> None:
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "scratch"},
          "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                   "storageClassName": "manual", "hostPath": {"path": "/"}}}
    for record in (eks("create", "persistentvolumes", None, pv, namespace=None, code=201),
                   gke("io.k8s.core.v1.persistentvolumes.create",
                       "core/v1/persistentvolumes/scratch",
                       {"@type": "core.k8s.io/v1.PersistentVolume", **pv})):
        found = findings(tmp_path, record)["Kubernetes.Pod.HostPath.Volume"]
        assert found["severity"] == "CRITICAL"
        assert "PersistentVolume [scratch]" in found["title"]
    provisioned = eks("create", "persistentvolumes", None, pv, namespace=None, code=201,
                      user="system:serviceaccount:kube-system:persistent-volume-binder")
    assert "Kubernetes.Pod.HostPath.Volume" not in findings(tmp_path, provisioned)


# --- Look-alike principals in titles -----------------------------------------------------------

def test_a_homoglyph_of_a_system_principal_is_visible_in_the_title(tmp_path: Path) -> None:
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
          "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "b"}]}}}}
    lookalike = "\u0430ksService"  # Cyrillic a: not AKS's own identity, so a finding
    for record in (aks(eks("create", "daemonsets", None, ds, namespace="kube-system",
                           group="apps", code=201, user=lookalike)),
                   gke("io.k8s.apps.v1.daemonsets.create",
                       "apps/v1/namespaces/kube-system/daemonsets/agent", ds, user=lookalike)):
        title = findings(tmp_path, record)["Kubernetes.DaemonSet.Created"]["title"]
        assert title.startswith("[\\u0430ksService] created DaemonSet")


def test_json_patch_adding_a_privileged_ephemeral_container_is_seen(tmp_path: Path) -> None:
    ops = _json_patch(("add", "/spec/ephemeralContainers/-", {
        "name": "debugger", "image": "busybox", "securityContext": {"privileged": True}}))
    record = eks("patch", "pods", "web-0", ops, subresource="ephemeralcontainers")
    found = findings(tmp_path, record)
    assert found["Kubernetes.Pod.EphemeralContainer.Created"]["severity"] == "HIGH"
    assert "Kubernetes.Pod.Privileged.Created" in found


# --- A role granting ephemeral containers (a shell by another name) ----------------------------

def test_a_role_granting_ephemeral_containers_is_seen(tmp_path: Path) -> None:
    group = "rbac.authorization.k8s.io"
    role = {"apiVersion": f"{group}/v1", "kind": "Role",
            "metadata": {"name": "debugger", "namespace": "prod"},
            "rules": [{"apiGroups": [""], "resources": ["pods/ephemeralcontainers"],
                       "verbs": ["patch"]}]}
    for record in (eks("create", "roles", None, role, namespace="prod", group=group, code=201),
                   gke("io.k8s.authorization.rbac.v1.roles.create",
                       f"{group}/v1/namespaces/prod/roles/debugger", role)):
        title = findings(tmp_path, record)["Kubernetes.Role.PodExec"]["title"]
        assert "pods/ephemeralcontainers" in title


# --- dryRun=All on requests that ignore it -----------------------------------------------------

@pytest.mark.parametrize("wrap", [lambda e: e, aks], ids=["eks", "aks"])
def test_dry_run_on_an_exec_is_ignored_by_the_api_server_and_by_the_rules(
        tmp_path: Path, wrap: Any) -> None:
    record = eks("create", "pods", "web-0", None, code=101, subresource="exec",
                 stage="ResponseStarted", query=TOKEN_QUERY + "&stdout=true&dryRun=All")
    found = findings(tmp_path, wrap(record))
    assert {"Kubernetes.Pod.Exec", "Kubernetes.Pod.StealServiceAccountToken"} <= set(found)
    proxied = _node_proxy("exec/prod/db-0/db?command=sh&dryRun=All")
    assert "Kubernetes.Pod.Exec" in findings(tmp_path, wrap(proxied))


def test_dry_run_on_secret_reads_is_ignored(tmp_path: Path) -> None:
    dump = eks("list", "secrets", None, None, namespace=None, query="dryRun=All")
    assert "Kubernetes.Secrets.DumpAllNamespaces" in findings(tmp_path, dump)
    reads = []
    for i in range(15):
        read = eks("get", "secrets", f"s{i}", None, namespace="prod", query="dryRun=All")
        reads.append(read)
    assert len(_bulk(tmp_path, reads)) == 1


def test_a_dry_run_create_is_still_a_dry_run(tmp_path: Path) -> None:
    body = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "x"},
            "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "b"}]}}}}
    record = eks("create", "daemonsets", None, body, group="apps", code=201, query="dryRun=All")
    assert "Kubernetes.DaemonSet.Created" not in findings(tmp_path, record)


# --- Windows HostProcess set for the whole pod -------------------------------------------------

def test_a_pod_level_host_process_is_privileged(tmp_path: Path) -> None:
    spec = {"securityContext": {"windowsOptions": {"hostProcess": True,
                                                   "runAsUserName": "NT AUTHORITY\\SYSTEM"}},
            "hostNetwork": True, "nodeSelector": {"kubernetes.io/os": "windows"},
            "containers": [{"name": "shell", "image": "mcr.microsoft.com/windows/nanoserver"}]}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "w"}, "spec": spec}
    for record in (aks(eks("create", "pods", None, pod, code=201)),
                   gke("io.k8s.core.v1.pods.create", "core/v1/namespaces/default/pods/w", pod)):
        title = findings(tmp_path, record)["Kubernetes.Pod.Privileged.Created"]["title"]
        assert "['shell']" in title


# --- A system-looking role made by generateName ------------------------------------------------

def test_a_system_role_named_by_generate_name_is_seen(tmp_path: Path) -> None:
    group = "rbac.authorization.k8s.io"
    role = {"apiVersion": f"{group}/v1", "kind": "ClusterRole",
            "metadata": {"generateName": "system:controller:node-"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}
    for record in (eks("create", "clusterroles", None, role, namespace=None, group=group,
                       code=201),
                   gke("io.k8s.authorization.rbac.v1.clusterroles.create",
                       f"{group}/v1/clusterroles", role)):
        title = findings(tmp_path, record)["Kubernetes.SystemRole.Modified"]["title"]
        assert "[system:controller:node-*]" in title


# --- Credentials in a ConfigMap's binaryData ---------------------------------------------------

def test_credentials_in_config_map_binary_data_are_seen(tmp_path: Path) -> None:
    pem = b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tls"},
          "binaryData": {"key.pem": base64.b64encode(pem).decode()}}
    for record in (eks("create", "configmaps", None, cm, code=201),
                   gke("io.k8s.core.v1.configmaps.create",
                       "core/v1/namespaces/default/configmaps/tls", cm)):
        found = findings(tmp_path, record)["Kubernetes.ConfigMap.PrivateCredentials"]
        assert "private-key" in found["title"]


def test_many_decoy_globs_do_not_hide_the_real_one() -> None:
    # (Their cost is a speed matter for `make bench`, not a timed unit test.)
    from kubetrail.rules.execs import token_reads
    decoys = " ".join(f"/v*/r*/s{i}/k*/t*" for i in range(80000))
    found = token_reads(("sh", "-c", decoys + " ; cat /v*/r*/s*/k*/s*/t*"))
    assert found == ["/v*/r*/s*/k*/s*/t*"]
