"""audit.k8s.io Event → AuditEvent, on real corpus Events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from kubetrail.errors import DecodeError
from kubetrail.sources.k8s import event_from_k8s, parse_time
from tests.sources.helpers import ORIGIN, corpus_doc, corpus_lines, native

EKS = "eks/panther-analysis_eks-audit-events.jsonl"


def decode(obj: dict[str, Any], cluster: str | None = "c") -> Any:
    return event_from_k8s(obj, cloud="aws", cluster=cluster, raw=obj, origin=ORIGIN)


def test_maps_every_field_of_a_real_eks_event() -> None:
    obj = native(corpus_lines(EKS)[8])  # kubernetes-admin reading a pod's log
    ev = decode(obj, "example-cluster")
    assert (ev.cloud, ev.log_type, ev.cluster) == ("aws", "Amazon.EKS.Audit", "example-cluster")
    assert ev.audit_id == "35506555-dffc-4337-b2b1-c4af52b88e18"
    assert (ev.stage, ev.verb) == ("ResponseStarted", "get")
    assert ev.username == "kubernetes-admin"
    assert ev.groups == ("system:masters", "system:authenticated")
    assert ev.source_ips == ("5.5.5.5",)
    assert (ev.resource, ev.subresource, ev.namespace, ev.name) == (
        "pods", "log", "default", "kube-bench-drn4j")
    assert (ev.api_group, ev.api_version) == (None, "v1")
    assert ev.request_uri == \
        "/api/v1/namespaces/default/pods/kube-bench-drn4j/log?container=kube-bench"
    assert ev.response_code == 200
    assert ev.time == datetime(2022, 11, 29, 0, 9, 4, 392000, tzinfo=UTC)  # stageTimestamp
    assert ev.raw is obj and not ev.completed


def test_request_object_is_kept_not_copied() -> None:
    obj = native(next(e for e in corpus_lines(EKS) if e.get("requestObject")))
    assert decode(obj).request_object is obj["requestObject"]


def test_v1beta1_event_of_sumo_logic_envelope() -> None:
    event = corpus_doc("eks/sumologic-docs_eks-control-plane_cloudwatch-envelope.json")["message"]
    ev = decode(event)
    assert (ev.verb, ev.resource, ev.namespace, ev.name) == (
        "get", "secrets", "kube-system", "kube-proxy-token-w7wkr")
    assert ev.username == "system:apiserver" and ev.groups == ("system:masters",)
    assert ev.time == datetime(2019, 6, 26, 7, 5, 51, 450399, tzinfo=UTC)


def test_aks_event_with_api_group() -> None:
    event = corpus_doc("aks/sysdiglabs-aks-audit-log_unwrapped-audit-event.json")
    ev = decode(event)
    assert (ev.verb, ev.resource, ev.api_group, ev.api_version) == (
        "update", "controllerrevisions", "apps", "v1")
    assert ev.username == "system:serviceaccount:kube-system:daemon-set-controller"


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-08-15T12:56:17.261620203Z", datetime(2025, 8, 15, 12, 56, 17, 261620, tzinfo=UTC)),
    ("2020-05-05T16:16:37.0000000Z", datetime(2020, 5, 5, 16, 16, 37, tzinfo=UTC)),
    ("2022-11-29 00:09:04.38", datetime(2022, 11, 29, 0, 9, 4, 380000, tzinfo=UTC)),
    ("2024-02-16 11:48:22.742154000", datetime(2024, 2, 16, 11, 48, 22, 742154, tzinfo=UTC)),
    ("2020-05-08T22:44:17Z", datetime(2020, 5, 8, 22, 44, 17, tzinfo=UTC)),
    ("2020-05-08T22:44:17.5+02:00", datetime(2020, 5, 8, 20, 44, 17, 500000, tzinfo=UTC)),
])
def test_timestamps_become_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_time(text, "t")
    assert parsed == expected and parsed.tzinfo is UTC


def test_request_received_timestamp_is_the_fallback() -> None:
    ev = decode({"kind": "Event", "requestReceivedTimestamp": "2024-01-02T03:04:05Z"})
    assert ev.time == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert decode({"kind": "Event"}).time is None


def test_user_null_fails_but_absent_user_is_tolerated() -> None:
    with pytest.raises(DecodeError, match=r"user: null"):
        decode({"kind": "Event", "verb": "get", "user": None})
    ev = decode({"kind": "Event", "verb": "create"})
    assert ev.username is None and ev.groups == ()


def test_null_optional_fields_are_absent() -> None:
    ev = decode({"kind": "Event", "verb": "get", "user": {"username": "u", "groups": None},
                 "sourceIPs": None, "objectRef": {"namespace": None, "resource": "pods"},
                 "responseStatus": None, "requestObject": None, "stageTimestamp": None})
    assert (ev.groups, ev.source_ips, ev.namespace, ev.response_code) == ((), (), None, None)
    assert ev.request_object is None and ev.time is None


def test_core_group_is_none_whether_absent_or_empty() -> None:
    for ref in ({"resource": "pods"}, {"resource": "pods", "apiGroup": ""}):
        assert decode({"kind": "Event", "objectRef": ref}).api_group is None
    assert decode({"kind": "Event", "objectRef": {"apiGroup": "apps"}}).api_group == "apps"


@pytest.mark.parametrize(("patch", "reason"), [
    ({"verb": 7}, "verb: expected a string, got number"),
    ({"auditID": ["a"]}, "auditID: expected a string, got array"),
    ({"objectRef": ["pods"]}, "objectRef: expected an object, got array"),
    ({"objectRef": {"resource": {"x": 1}}}, "objectRef.resource: expected a string, got object"),
    ({"user": "admin"}, "user: expected an object, got string"),
    ({"user": {"username": 5}}, "user.username: expected a string, got number"),
    ({"user": {"groups": "system:masters"}}, "user.groups: expected a list of strings, got string"),
    ({"user": {"groups": ["a", 1]}}, "user.groups: expected a list of strings, found a number"),
    ({"sourceIPs": "1.2.3.4"}, "sourceIPs: expected a list of strings, got string"),
    ({"sourceIPs": [None]}, "sourceIPs: expected a list of strings, found a null"),
    ({"responseStatus": {"code": "201"}}, "responseStatus.code: expected an integer, got string"),
    ({"responseStatus": {"code": True}}, "responseStatus.code: expected an integer, got boolean"),
    ({"responseStatus": {"code": 201.0}}, "responseStatus.code: expected an integer, got number"),
    ({"responseStatus": 201}, "responseStatus: expected an object, got number"),
    ({"requestObject": "{}"}, "requestObject: expected an object, got string"),
    ({"stageTimestamp": 1700000000}, "stageTimestamp: expected a timestamp string, got number"),
    ({"stageTimestamp": "yesterday"}, "stageTimestamp: not an RFC 3339 timestamp: 'yesterday'"),
])
def test_wrong_types_fail_with_the_field_named(patch: dict[str, Any], reason: str) -> None:
    obj = {**orjson.loads(orjson.dumps(native(corpus_lines(EKS)[8]))), **patch}
    with pytest.raises(DecodeError) as info:
        decode(obj)
    assert info.value.message == reason
    assert info.value.origin == ORIGIN


def test_a_non_object_is_refused() -> None:
    with pytest.raises(DecodeError, match="expected an object, got array"):
        decode([])  # type: ignore[arg-type]


def test_a_json_patch_body_is_read_as_the_manifest_it_writes() -> None:
    """`kubectl patch --type=json` logs a list of operations as requestObject: the record is an
    event, not a decode failure, and its body is the sparse manifest the operations write (so the
    rules see the hostPID it sets); the operations stay in raw."""
    from kubetrail.errors import Origin
    from kubetrail.sources import decode_document
    from kubetrail.sources.base import Decoded

    patch = [{"op": "add", "path": "/spec/template/spec/hostPID", "value": True}]
    record = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "p-1",
              "stage": "ResponseComplete", "verb": "patch", "user": {"username": "mallory"},
              "objectRef": {"resource": "daemonsets", "namespace": "default", "name": "agent",
                            "apiGroup": "apps", "apiVersion": "v1"},
              "responseStatus": {"code": 200}, "requestObject": patch,
              "requestURI": "/apis/apps/v1/namespaces/default/daemonsets/agent",
              "stageTimestamp": "2026-11-27T12:00:00.000000Z"}
    [outcome] = decode_document(record, Origin("t"))
    assert isinstance(outcome, Decoded), outcome
    assert outcome.event.verb == "patch"
    assert outcome.event.request_object == {"spec": {"template": {"spec": {"hostPID": True}}}}
    assert outcome.event.raw["requestObject"] == patch
