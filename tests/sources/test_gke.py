"""GKE: LogEntry → AuditEvent on the corpus's real entries, and the status mapping."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from kubetrail.sources.base import Decoded, Failure, Skip
from kubetrail.sources.gke import GRPC_TO_HTTP, decode_log_entry, parse_method
from tests.sources.helpers import ORIGIN, corpus_doc, corpus_lines

KHI = "gke/khi_gke-audit-logentries.jsonl"
OTEL = "gke/otel-contrib_gke-k8s-activity-logentry.json"
PANTHER = "gke/panther-analysis_gke-logentries.jsonl"


def decode(entry: dict[str, Any]) -> Any:
    outcome = decode_log_entry(entry, ORIGIN)
    assert isinstance(outcome, Decoded), outcome
    return outcome.event


def entry(method: str, resource_name: str | None, status: Any = "absent",
          **proto: Any) -> dict[str, Any]:
    pp: dict[str, Any] = {"serviceName": "k8s.io", "methodName": method, **proto}
    if resource_name is not None:
        pp["resourceName"] = resource_name
    if status != "absent":
        pp["status"] = status
    return {"protoPayload": pp, "insertId": "i-1", "timestamp": "2024-01-01T00:00:00Z",
            "resource": {"type": "k8s_cluster", "labels": {"cluster_name": "gke-1"}}}


def test_khi_pod_create_by_replicaset_controller() -> None:
    ev = decode(corpus_lines(KHI)[0])
    assert (ev.cloud, ev.log_type, ev.cluster) == ("gcp", "GCP.AuditLog", "sample-cluster")
    assert (ev.verb, ev.api_group, ev.api_version, ev.resource, ev.subresource) == (
        "create", None, "v1", "pods", None)
    assert (ev.namespace, ev.name) == ("1-2-deployment-update",
                                       "nginx-deployment-surge-8655b4b8c5-xf5f4")
    assert ev.username == "system:serviceaccount:kube-system:replicaset-controller"
    assert ev.source_ips == ("172.16.0.3",)  # requestMetadata.callerIp
    assert ev.response_code == 200  # status {"code": 0}
    assert ev.audit_id == "85371f7c-2383-4041-96e8-dad63d2d1990"  # operation.id
    assert ev.request_object is not None and ev.request_object["kind"] == "Pod"
    assert ev.stage is None and ev.completed


def test_khi_status_subresource() -> None:
    ev = decode(corpus_lines(KHI)[1])
    assert (ev.verb, ev.resource, ev.subresource) == ("patch", "pods", "status")
    assert ev.username.startswith("system:node:gke-sample-cluster")


def test_otel_lease_update() -> None:
    ev = decode(corpus_doc(OTEL))
    assert (ev.verb, ev.api_group, ev.resource, ev.namespace, ev.name) == (
        "update", "coordination.k8s.io", "leases", "kube-system", "gcp-controller-manager")
    assert ev.cluster == "ensemble-k8s-dkohl"
    assert ev.user_agent.startswith("gcp-controller-manager/v0.0.0")
    assert ev.time == datetime(2025, 8, 15, 12, 54, 34, 966334, tzinfo=UTC)


def test_caller_ip_capital_p_and_empty_status() -> None:
    line = next(e for e in corpus_lines(PANTHER)
                if e["protoPayload"].get("methodName") == "io.k8s.core.v1.services.create"
                and e["protoPayload"].get("status") == {})
    assert "callerIP" in line["protoPayload"]["requestMetadata"]
    ev = decode(line)
    assert ev.source_ips == ("1.2.3.4",) and ev.response_code == 200


@pytest.mark.parametrize(("status", "code"), [
    ("absent", 200), (None, 200), ({}, 200), ({"message": "ok"}, 200), ({"code": 0}, 200),
    ({"code": 7, "message": "forbidden"}, 403), ({"code": 10}, 409), ({"code": 5}, 404),
    ({"code": 16}, 401),
])
def test_status_mapping(status: Any, code: int) -> None:
    method, name = "io.k8s.apps.v1.daemonsets.create", "apps/v1/namespaces/default/daemonsets/x"
    assert decode(entry(method, name, status)).response_code == code


def test_every_grpc_code_maps_to_googles_http_code() -> None:
    assert GRPC_TO_HTTP == {0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403,
                            8: 429, 9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503,
                            15: 500, 16: 401}


@pytest.mark.parametrize(("status", "reason"), [
    ({"code": "7"}, "protoPayload.status.code: expected an integer, got string"),
    ({"code": 7.0}, "protoPayload.status.code: expected an integer, got number"),
    ({"code": True}, "protoPayload.status.code: expected an integer, got boolean"),
    ({"code": 17}, "protoPayload.status.code: 17 is not a google.rpc.Code"),
    ({"code": -1}, "protoPayload.status.code: -1 is not a google.rpc.Code"),
    ("OK", "protoPayload.status: expected an object, got string"),
])
def test_status_that_is_not_a_grpc_code_fails(status: Any, reason: str) -> None:
    outcome = decode_log_entry(entry("io.k8s.core.v1.pods.get", "core/v1/pods/p", status), ORIGIN)
    assert isinstance(outcome, Failure) and outcome.reason == reason


@pytest.mark.parametrize(("method", "name", "expected"), [
    # (verb, api_group, version, resource, subresource, namespace, name)
    ("io.k8s.authorization.rbac.v1.clusterrolebindings.create",
     "rbac.authorization.k8s.io/v1/clusterrolebindings/dev-admin",
     ("create", "rbac.authorization.k8s.io", "v1", "clusterrolebindings", None, None, "dev-admin")),
    ("io.k8s.apps.v1.daemonsets.create", "apps/v1/namespaces/kube-system/daemonsets/agent",
     ("create", "apps", "v1", "daemonsets", None, "kube-system", "agent")),
    ("io.k8s.core.v1.pods.exec.create", "core/v1/namespaces/prod/pods/db-0/exec",
     ("create", None, "v1", "pods", "exec", "prod", "db-0")),
    ("io.k8s.core.v1.pods.list", "core/v1/namespaces/default/pods",
     ("list", None, "v1", "pods", None, "default", None)),
    ("io.k8s.core.v1.namespaces.get", "core/v1/namespaces/payments",
     ("get", None, "v1", "namespaces", None, None, "payments")),
    ("io.k8s.core.v1.namespaces.finalize.update", "core/v1/namespaces/payments/finalize",
     ("update", None, "v1", "namespaces", "finalize", None, "payments")),
    ("io.k8s.extensions.v1beta1.ingresses.list", "extensions/v1beta1/ingresses",
     ("list", "extensions", "v1beta1", "ingresses", None, None, None)),
    ("io.cert-manager.v1.certificates.create", "cert-manager.io/v1/namespaces/a/certificates/c",
     ("create", "cert-manager.io", "v1", "certificates", None, "a", "c")),
    # without resourceName only single-label groups are read from methodName
    ("io.k8s.apps.v1.daemonsets.create", None,
     ("create", "apps", "v1", "daemonsets", None, None, None)),
    ("io.k8s.authorization.rbac.v1.roles.create", None,
     ("create", None, "v1", "roles", None, None, None)),
])
def test_method_and_resource_name(method: str, name: str | None, expected: tuple[Any, ...]
                                  ) -> None:
    ev = decode(entry(method, name))
    assert (ev.verb, ev.api_group, ev.api_version, ev.resource, ev.subresource, ev.namespace,
            ev.name) == expected


def test_non_resource_request() -> None:
    line = corpus_lines(PANTHER)[49]  # io.k8s.readyz with resourceName "/readyz"
    ev = decode(line)
    assert ev.resource is None and ev.request_uri == "/readyz"
    ev = decode(entry("io.k8s.get", "readyz", {}))
    assert (ev.verb, ev.resource, ev.namespace, ev.api_group, ev.request_uri) == (
        "get", None, None, None, "/readyz")


def test_parse_method_refuses_what_is_not_a_kubernetes_method() -> None:
    assert parse_method("io.k8s.core.v1.pods.get") == ("get", "io.k8s.core", "v1", "pods", None)
    for bad in ("google.container.v1.ClusterManager.GetCluster", "io.k8s.", "get"):
        outcome = decode_log_entry(entry(bad, None), ORIGIN)
        assert isinstance(outcome, Failure)
        assert outcome.reason.startswith("protoPayload.methodName: not a Kubernetes method")


def test_not_k8s_audit_is_skipped() -> None:
    negative = corpus_doc("negative/otel-contrib_gke-cluster-api-getcluster_NOT-k8s-audit.json")
    assert decode_log_entry(negative, ORIGIN) == Skip("not-k8s-audit", ORIGIN)
    assert decode_log_entry({"logName": "x", "resource": {}}, ORIGIN) == \
        Skip("not-k8s-audit", ORIGIN)
    no_service = corpus_lines(PANTHER)[0]  # hand-written test log without serviceName
    assert decode_log_entry(no_service, ORIGIN) == Skip("not-k8s-audit", ORIGIN)
    assert decode_log_entry(no_service, ORIGIN, assume_k8s=True).event.verb == "create"  # type: ignore[union-attr]


def test_audit_id_falls_back_to_insert_id_and_time_to_receive_timestamp() -> None:
    e = entry("io.k8s.core.v1.pods.get", "core/v1/namespaces/a/pods/p")
    del e["timestamp"]
    e["receiveTimestamp"] = "2024-01-01T00:00:02.123456789Z"
    ev = decode(e)
    assert ev.audit_id == "i-1"
    assert ev.time == datetime(2024, 1, 1, 0, 0, 2, 123456, tzinfo=UTC)


@pytest.mark.parametrize(("path", "value", "reason"), [
    (("protoPayload",), [], "protoPayload: expected an object, got array"),
    (("protoPayload", "methodName"), None, "protoPayload.methodName: missing"),
    (("protoPayload", "authenticationInfo"), "me",
     "protoPayload.authenticationInfo: expected an object, got string"),
    (("protoPayload", "requestMetadata", "callerIp"), 1,
     "protoPayload.requestMetadata.callerIp: expected a string, got number"),
    (("resource", "labels", "cluster_name"), 3,
     "resource.labels.cluster_name: expected a string, got number"),
    (("timestamp",), "now", "timestamp: not an RFC 3339 timestamp: 'now'"),
])
def test_wrong_types_fail(path: tuple[str, ...], value: Any, reason: str) -> None:
    e = orjson.loads(orjson.dumps(corpus_lines(KHI)[0]))
    target = e
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    outcome = decode_log_entry(e, ORIGIN)
    assert isinstance(outcome, Failure) and outcome.reason == reason
    assert orjson.loads(outcome.raw) == e


@pytest.mark.parametrize("method", [
    "io.k8s.core.v1.pods.get", "io.k8s.apps.v1.daemonsets.create", "io.k8s.readyz",
    "io.k8s.core.v1.pods.exec.create", "google.container.v1.ClusterManager.GetCluster",
    "io.k8s." + "x" * 300 + ".v1.pods.get", "io.k8s.core.v1." + "p" * 300 + ".get",
    "io.k8s." + "Q" * 300, "io.K8s.core.v1.pods.get",
])
def test_a_method_decodes_the_same_every_time_it_is_seen(method: str) -> None:
    # (methods of real length are parsed once and cached; long ones are not kept)
    try:
        expected: Any = parse_method(method)
    except Exception as exc:
        expected = str(exc)
    for _ in range(3):
        outcome = decode_log_entry(entry(method, "core/v1/namespaces/a/pods/b"), ORIGIN)
        if isinstance(expected, str):
            assert isinstance(outcome, Failure) and outcome.reason == expected
        else:
            assert isinstance(outcome, Decoded)
            assert (outcome.event.verb, outcome.event.resource, outcome.event.subresource,
                    outcome.event.api_version) == (expected[0], expected[3], expected[4],
                                                   expected[2])


def test_the_light_path_reads_methods_from_the_same_bounded_cache() -> None:
    from kubetrail.sources import gke
    from kubetrail.sources.pubsub_fast import parse_method_cached

    for method in ["io.k8s.core.v1.pods.exec.create", "io.k8s.readyz", "io.K8s.core.v1.pods.get",
                   "io.k8s.core.v1." + "p" * 300 + f"{id(object())}.get"]:  # (unseen before)
        try:
            verb, _, _, resource, subresource = parse_method(method)
            expected: Any = (verb, resource, subresource)
        except Exception:
            expected = None
        before = gke._parsed.cache_info().currsize
        assert parse_method_cached(method) == parse_method_cached(method) == expected
        grew = gke._parsed.cache_info().currsize - before
        assert grew <= (1 if len(method) <= 200 else 0), method  # a long name is never kept
