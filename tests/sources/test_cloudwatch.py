"""EKS: CloudWatch Logs subscription deliveries built around the corpus's EKS Events."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime

import orjson
import pytest

from kubetrail.errors import Origin
from kubetrail.sources.base import Decoded, Failure, Prefiltered, Skip
from kubetrail.sources.cloudwatch import (
    build_data_message,
    cluster_from_log_group,
    decode_awslogs,
    decode_data_message,
    encode_awslogs,
)
from tests.sources.helpers import (
    EKS_GROUP,
    EKS_STREAM,
    ORIGIN,
    RULES,
    awslogs,
    eks_messages,
    events,
    failure,
    findings,
    kinds,
    only,
)


def test_lambda_event_round_trip_over_every_corpus_event() -> None:
    messages = eks_messages()
    outcomes = list(decode_awslogs(encode_awslogs(EKS_GROUP, EKS_STREAM, messages), ORIGIN))
    assert kinds(outcomes) == ["Decoded"] * len(messages) == ["Decoded"] * 186
    evs = events(outcomes)
    assert {e.cluster for e in evs} == {"prod-eks-01"}
    assert [e.raw for e in evs] == [orjson.loads(m) for m in messages]
    assert evs[8].username == "kubernetes-admin" and evs[8].subresource == "log"


def test_origin_is_group_stream_and_event_id() -> None:
    event = encode_awslogs(EKS_GROUP, EKS_STREAM, eks_messages(2), timestamps=[1, 2])
    first, second = decode_awslogs(event, Origin("lambda", "req-1"))
    assert first.origin == Origin("lambda", f"req-1/{EKS_GROUP}/{EKS_STREAM}/1" + "0" * 55)
    assert second.origin.position.endswith("/2" + "0" * 54 + "1")


def test_encode_awslogs_builds_what_cloudwatch_sends() -> None:
    messages = eks_messages(3)
    event = encode_awslogs(EKS_GROUP, EKS_STREAM, messages)
    body = orjson.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    assert body["messageType"] == "DATA_MESSAGE"
    assert (body["logGroup"], body["logStream"]) == (EKS_GROUP, EKS_STREAM)
    assert body["owner"] == "111122223333" and body["subscriptionFilters"] == ["kubetrail-audit"]
    assert [e["message"] for e in body["logEvents"]] == messages
    assert all(len(e["id"]) == 56 and e["id"].isdigit() for e in body["logEvents"])
    # timestamps come from the Events (Panther's "2022-11-29 00:09:04.38" is UTC)
    stamp = datetime(2022, 11, 29, 0, 9, 4, 380000, tzinfo=UTC).timestamp() * 1000
    assert body["logEvents"][0]["timestamp"] == int(stamp)


def test_lambda_event_as_bytes_and_bare_gzip_payload() -> None:
    event = encode_awslogs(EKS_GROUP, EKS_STREAM, eks_messages(2))
    assert kinds(decode_awslogs(orjson.dumps(event), ORIGIN)) == ["Decoded", "Decoded"]
    payload = base64.b64decode(event["awslogs"]["data"])
    assert kinds(decode_awslogs(payload, ORIGIN)) == ["Decoded", "Decoded"]


def test_control_message_is_one_skip() -> None:
    control = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "",
               "logStream": "", "subscriptionFilters": [], "logEvents": [
                   {"id": "", "timestamp": 1700000000000,
                    "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis"}]}
    outcome = only(decode_awslogs(awslogs(control), ORIGIN))
    assert outcome == Skip("control-message", ORIGIN)


def test_empty_and_unknown_payloads() -> None:
    empty = build_data_message(EKS_GROUP, EKS_STREAM, [])
    assert only(decode_data_message(empty, ORIGIN)) == Skip("empty", ORIGIN)
    odd = {**empty, "messageType": "WAT\n"}
    assert failure(decode_data_message(odd, ORIGIN)).reason == \
        "unknown CloudWatch Logs messageType 'WAT\\n'"
    bad = {**empty, "logEvents": {"id": 1}}
    assert failure(decode_data_message(bad, ORIGIN)).reason == \
        "logEvents: expected an array, got object"


def test_non_audit_streams_of_the_eks_log_group_are_skipped() -> None:
    klog = ["I0611 09:14:02.118403      11 controller.go:624] quota admission added evaluator"]
    for stream in ("kube-apiserver-0123abcd", "authenticator-0123abcd",
                   "kube-controller-manager-0123abcd", "cloud-controller-manager-0123abcd",
                   "kube-scheduler-0123abcd"):
        event = encode_awslogs(EKS_GROUP, stream, klog, timestamps=[1])
        assert kinds(decode_awslogs(event, ORIGIN)) == ["Skip:not-k8s-audit"]
    # an unknown stream is decoded, never silently dropped
    event = encode_awslogs(EKS_GROUP, "kube-apiserver-audit-v2-xyz", eks_messages(1))
    assert kinds(decode_awslogs(event, ORIGIN)) == ["Decoded"]
    event = encode_awslogs(EKS_GROUP, "something-new", klog, timestamps=[1])
    assert failure(decode_awslogs(event, ORIGIN)).reason.startswith("invalid audit Event JSON")


@pytest.mark.parametrize(("group", "cluster"), [
    ("/aws/eks/prod-eks-01/cluster", "prod-eks-01"),
    ("/aws/eks/a.b_c-1/cluster", "a.b_c-1"),
    ("/aws/eks//cluster", None),
    ("/aws/lambda/kubetrail", None),
    (None, None),
])
def test_cluster_from_log_group(group: str | None, cluster: str | None) -> None:
    assert cluster_from_log_group(group) == cluster


def test_truncated_message_fails_alone_with_its_text_kept() -> None:
    messages = eks_messages(3)
    cut = messages[1][: len(messages[1]) // 2]
    outcomes = list(decode_awslogs(encode_awslogs(EKS_GROUP, EKS_STREAM,
                                                  [messages[0], cut, messages[2]]), ORIGIN))
    assert kinds(outcomes) == ["Decoded", "Failure", "Decoded"]
    bad = outcomes[1]
    assert isinstance(bad, Failure) and bad.raw == cut.encode()
    assert bad.reason.startswith("invalid audit Event JSON: ")


def test_message_that_is_not_an_audit_event_fails() -> None:
    core_event = orjson.dumps({"kind": "Event", "apiVersion": "v1", "reason": "Pulled"}).decode()
    event = encode_awslogs(EKS_GROUP, EKS_STREAM, [core_event, "[1, 2]"], timestamps=[1, 2])
    reasons = [o.reason for o in decode_awslogs(event, ORIGIN) if isinstance(o, Failure)]
    assert reasons == ["not an audit Event: kind 'Event', apiVersion 'v1'",
                       "audit Event: expected an object, got array"]


def test_prefilter_sees_message_text_and_findings_do_not_change() -> None:
    messages = eks_messages()
    event = encode_awslogs(EKS_GROUP, EKS_STREAM, messages)
    plain = list(decode_awslogs(event, ORIGIN))
    fast = list(decode_awslogs(event, ORIGIN, RULES.prefilter))
    assert len(plain) == len(fast) == 186
    assert sum(isinstance(o, Prefiltered) for o in fast) > 150
    assert all(isinstance(o, Decoded) for o in fast if not isinstance(o, Prefiltered))
    assert findings(fast) == findings(plain) != []


def test_broken_envelopes_are_one_failure_each() -> None:
    def reason(event: object) -> str:
        return failure(decode_awslogs(event, ORIGIN)).reason  # type: ignore[arg-type]

    assert reason({"awslogs": {"data": "not base64!"}}).startswith(
        "awslogs.data is not valid base64")
    assert reason({"awslogs": {"data": base64.b64encode(b"\x1f\x8bnot gzip").decode()}}) \
        .startswith("invalid gzip data")
    assert reason({"awslogs": "x"}) == "awslogs: expected an object, got string"
    assert reason({"awslogs": {"data": 5}}) == "awslogs.data: expected a base64 string, got number"
    assert reason(b"\x00garbage").startswith("invalid Lambda event JSON")


def test_gzip_bomb_is_refused_beyond_max_inflate() -> None:
    bomb = base64.b64encode(gzip.compress(b" " * (4 << 20))).decode()
    outcome = only(decode_awslogs({"awslogs": {"data": bomb}}, ORIGIN, max_inflate=1 << 20))
    assert isinstance(outcome, Failure)
    assert outcome.reason == f"gzip payload inflates beyond {1 << 20} bytes"
    assert 0 < len(outcome.raw) < 10_000  # the compressed envelope, not the inflated bomb


def test_a_dense_message_costs_only_itself_not_its_delivery() -> None:
    """Braces inside a message string build nothing when the envelope is parsed: a message that
    is 150 KB of `{},` is that log event's failure; the good event beside it still decodes."""
    import base64
    import gzip

    from kubetrail.errors import Origin
    from kubetrail.sources import decode_awslogs
    from kubetrail.sources.base import Decoded, Failure

    good = ('{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"g","verb":"create",'
            '"stage":"ResponseComplete","user":{"username":"alice"},"objectRef":{"resource":'
            '"daemonsets","namespace":"default","name":"x","apiGroup":"apps"},'
            '"responseStatus":{"code":201},"stageTimestamp":"2026-11-27T12:00:00.000000Z"}')
    dense = "[" + "{}," * 50_000 + "{}]"
    payload = {"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/eks/c/cluster",
               "logStream": "kube-apiserver-audit-1", "subscriptionFilters": ["f"],
               "logEvents": [{"id": "1", "timestamp": 1, "message": dense},
                             {"id": "2", "timestamp": 2, "message": good}]}
    data = base64.b64encode(gzip.compress(orjson.dumps(payload))).decode()
    outcomes = list(decode_awslogs({"awslogs": {"data": data}}, Origin("t")))
    assert [type(o) for o in outcomes] == [Failure, Decoded], outcomes
