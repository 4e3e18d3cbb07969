"""decode_document: every delivery format recognized per document, and the exact fast path."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from kubetrail.errors import Origin
from kubetrail.sources import decode_document
from kubetrail.sources.base import Decoded, Failure, Prefiltered, Skip
from kubetrail.sources.cloudwatch import build_data_message, encode_awslogs
from kubetrail.sources.detect import AUDIT_PREFIX, decode_line
from tests.sources.helpers import (
    CORPUS,
    EKS_GROUP,
    EKS_STREAM,
    ORIGIN,
    RULES,
    cloudevent,
    corpus_doc,
    corpus_lines,
    eks_messages,
    eventhub_body,
    events,
    failure,
    findings,
    kinds,
    native,
    only,
    pubsub_push,
)

EKS_LINE = corpus_lines("eks/panther-analysis_eks-audit-events.jsonl")[8]
AKS_RECORD = corpus_doc("aks/sumologic-docs_kube-audit-admin_record.json")
GKE_ENTRY = corpus_lines("gke/khi_gke-audit-logentries.jsonl")[0]
DS_CREATE = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "stage": "ResponseComplete",
             "verb": "create", "user": {"username": "mallory@example.com"},
             "objectRef": {"resource": "daemonsets", "namespace": "default", "name": "x",
                           "apiGroup": "apps", "apiVersion": "v1"},
             "responseStatus": {"code": 201}}


def formats() -> list[tuple[str, Any, str, str]]:
    """(name, document, expected kinds, expected cloud) for every format kubetrail reads."""
    messages = eks_messages(2)
    push = pubsub_push(GKE_ENTRY)
    return [
        ("raw EKS event", native(EKS_LINE), "Decoded", "aws"),
        ("Panther EKS log", EKS_LINE, "Decoded", "aws"),
        ("Panther AKS log", corpus_lines("aks/panther-analysis_aks-diagnostic-records.jsonl")[0],
         "Decoded", "azure"),
        ("Panther GKE log", corpus_lines("gke/panther-analysis_gke-logentries.jsonl")[20],
         "Decoded", "gcp"),
        ("awslogs Lambda event", encode_awslogs(EKS_GROUP, EKS_STREAM, messages),
         "Decoded Decoded", "aws"),
        ("DATA_MESSAGE", build_data_message(EKS_GROUP, EKS_STREAM, messages),
         "Decoded Decoded", "aws"),
        ("CONTROL_MESSAGE", {"messageType": "CONTROL_MESSAGE", "logEvents": []},
         "Skip:control-message", ""),
        ("Event Hub body", orjson.loads(eventhub_body([AKS_RECORD, AKS_RECORD])),
         "Decoded Decoded", "azure"),
        ("AKS record", AKS_RECORD, "Decoded", "azure"),
        ("GKE LogEntry", GKE_ENTRY, "Decoded", "gcp"),
        ("Pub/Sub push", push, "Decoded", "gcp"),
        ("Pub/Sub pull message", {**push["message"]}, "Decoded", "gcp"),
        ("Pub/Sub pull response", {"receivedMessages": [{"ackId": "a", "message":
                                                          push["message"]}]}, "Decoded", "gcp"),
        ("Eventarc CloudEvent", cloudevent(push), "Decoded", "gcp"),
        ("CloudWatch log event (Sumo Logic)",
         corpus_doc("eks/sumologic-docs_eks-control-plane_cloudwatch-envelope.json"), "Decoded",
         "aws"),
        ("CloudWatch log event (export)",
         {"timestamp": 1, "message": messages[0], "ingestionTime": 2}, "Decoded", "aws"),
        ("array of formats", [native(EKS_LINE), AKS_RECORD, GKE_ENTRY],
         "Decoded Decoded Decoded", ""),
    ]


@pytest.mark.parametrize(("name", "doc", "expected", "cloud"), formats(),
                         ids=[f[0] for f in formats()])
def test_every_format_is_recognized(name: str, doc: Any, expected: str, cloud: str) -> None:
    outcomes = list(decode_document(doc, ORIGIN))
    assert kinds(outcomes) == expected.split()
    if cloud:
        assert {e.cloud for e in events(outcomes)} == {cloud}
    # the same document as text decodes the same
    assert kinds(decode_document(orjson.dumps(doc), ORIGIN)) == expected.split()


def test_panther_cluster_comes_from_the_source_label() -> None:
    (ev,) = events(decode_document(EKS_LINE, ORIGIN))
    assert ev.cluster == "example-cluster-eks-logs"
    assert events(decode_document(native(EKS_LINE), ORIGIN))[0].cluster is None
    bad = only(decode_document({**EKS_LINE, "p_log_type": "AWS.CloudTrail"}, ORIGIN))
    assert isinstance(bad, Failure) and bad.reason.startswith(
        "unsupported p_log_type 'AWS.CloudTrail'")


def test_unrecognized_documents_fail_with_escaped_keys() -> None:
    doc = {"zeta": 1, "alpha\n\x1b[31mred": 2, "x" * 200: 3}
    outcome = only(decode_document(doc, ORIGIN))
    assert isinstance(outcome, Failure)
    assert outcome.reason.startswith("unrecognized document: keys 'alpha\\n\\x1b[31mred', 'xxx")
    assert "\n" not in outcome.reason and "\x1b" not in outcome.reason
    assert len(outcome.reason) < 200
    many = only(decode_document({f"k{i}": i for i in range(40)}, ORIGIN))
    assert isinstance(many, Failure) and many.reason.endswith("… (40 keys)")
    assert failure(decode_document(42, ORIGIN)).reason == \
        "unrecognized document: a JSON number, not an object"
    assert failure(decode_document({}, ORIGIN)).reason == "unrecognized document: keys (none)"


def test_core_v1_event_is_not_an_audit_event() -> None:
    outcome = only(decode_document({"kind": "Event", "apiVersion": "v1", "reason": "Pulled"},
                                   ORIGIN))
    assert isinstance(outcome, Failure)
    assert outcome.reason == "not an audit Event: kind 'Event', apiVersion 'v1'"


def test_arrays_are_read_one_level_deep() -> None:
    outcomes = list(decode_document([native(EKS_LINE), [native(EKS_LINE)]], Origin("f")))
    assert kinds(outcomes) == ["Decoded", "Failure"]
    assert outcomes[0].origin == Origin("f", "[0]")
    assert outcomes[1].reason.startswith("nested JSON array")  # type: ignore[union-attr]
    assert list(decode_document([], ORIGIN)) == [Skip("empty", ORIGIN)]
    assert list(decode_document(b"  \n", ORIGIN)) == [Skip("empty", ORIGIN)]


def test_text_failures_keep_the_original_bytes() -> None:
    line = orjson.dumps({**native(EKS_LINE), "verb": 5})
    outcome = only(decode_document(line + b"\n", ORIGIN))
    assert isinstance(outcome, Failure) and outcome.raw == line


# --- the fast path -------------------------------------------------------------------------

def b64(value: Any) -> str:
    return base64.b64encode(orjson.dumps(value)).decode()


def tricky_lines() -> list[bytes]:
    """Documents where a DaemonSet create is hidden from a naive byte scan, or only looks
    like one."""
    ds = orjson.dumps(DS_CREATE)
    escaped = ds.replace(b'"create"', b'"\\u0063reate"').replace(b"daemonsets", b"daemon\\u0073ets")
    go_escaped = orjson.dumps({**DS_CREATE, "requestURI": "/apis/apps/v1/namespaces/default/"
                               "daemonsets?fieldManager=kubectl\\u0026x=1"})
    record = {**AKS_RECORD, "properties": {"log": ds.decode() + "\n"}}
    gke = {**GKE_ENTRY, "protoPayload": {**GKE_ENTRY["protoPayload"],
                                         "methodName": "io.k8s.apps.v1.daemonsets.create",
                                         "resourceName": "apps/v1/namespaces/a/daemonsets/b"}}
    hidden = orjson.dumps({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "verb": "get",
                           "awslogs": {"data": "x"}})[:-1] + b',"kind":"Other"}'
    return [
        ds, escaped, go_escaped, orjson.dumps(record), orjson.dumps(gke),
        orjson.dumps(encode_awslogs(EKS_GROUP, EKS_STREAM, [ds.decode()])),
        orjson.dumps(build_data_message(EKS_GROUP, EKS_STREAM, [ds.decode()] * 2)),
        orjson.dumps(pubsub_push(gke)),
        orjson.dumps({"data": b64(gke), "messageId": "1"}),
        orjson.dumps({**cloudevent(None), "data": None, "data_base64": b64(pubsub_push(gke))}),
        orjson.dumps({"records": [record]}),
        orjson.dumps([DS_CREATE, DS_CREATE]),
        b"  " + ds,  # leading blanks
        b"\xef\xbb\xbf" + ds,  # BOM
        hidden,  # duplicate key: decoded by its text, as an audit Event, either way
    ]


def all_corpus_lines() -> list[bytes]:
    lines = []
    for path in sorted(CORPUS.rglob("*.json*")):
        text = path.read_bytes()
        lines += text.splitlines() if path.suffix == ".jsonl" else [text.replace(b"\n", b"")]
    return lines


def test_fast_path_gives_the_same_findings_as_full_decoding() -> None:
    origin = Origin("f", "1")
    for line in tricky_lines() + all_corpus_lines():
        slow = list(decode_line(line, origin))
        fast = list(decode_line(line, origin, RULES.prefilter))
        assert findings(fast) == findings(slow), line[:200]
        # every record keeps its own outcome (a run of Prefiltered records counts each one)
        assert sum(o.count if type(o) is Prefiltered else 1 for o in fast) == len(slow)
    assert len(findings(list(decode_line(tricky_lines()[1], origin, RULES.prefilter)))) == 1


def test_fast_path_skips_parsing_plain_records() -> None:
    origin = Origin("f", "1")
    get = orjson.dumps({**DS_CREATE, "verb": "get"})
    assert get.startswith(AUDIT_PREFIX)
    assert list(decode_line(get, origin, RULES.prefilter)) == [Prefiltered(origin)]
    # a record's fate is kept for truncation and broken encoding ...
    for damaged in (get[:-5], get[:40] + b"garbage", get.replace(b'"get"', b'"g\xffet"')):
        assert isinstance(next(iter(decode_line(damaged, origin, RULES.prefilter))), Failure)
    # ... and, the light decode being typed, for a wrong type in a field rules read
    mistyped = orjson.dumps({**DS_CREATE, "verb": 5})
    assert isinstance(next(iter(decode_line(mistyped, origin, RULES.prefilter))), Failure)
    assert isinstance(next(iter(decode_line(mistyped, origin))), Failure)
    # ... not for one in a field no rule reads
    odd_user = orjson.dumps({**DS_CREATE, "verb": "get", "user": None})
    assert list(decode_line(odd_user, origin, RULES.prefilter)) == [Prefiltered(origin)]
    assert isinstance(next(iter(decode_line(odd_user, origin))), Failure)
    # envelopes are decoded so every record inside keeps its own outcome
    data_message = orjson.dumps(build_data_message(EKS_GROUP, EKS_STREAM, [get.decode()] * 3))
    assert kinds(list(decode_line(data_message, origin, RULES.prefilter))) == ["Prefiltered"] * 3
    # a duplicated kind counts with its last value, on both paths: not an audit Event
    hidden = tricky_lines()[-1]
    for prefilter in (RULES.prefilter, None):
        assert failure(list(decode_line(hidden, origin, prefilter))).reason == \
            "not an audit Event: kind 'Other', apiVersion 'audit.k8s.io/v1'"
    ds = orjson.dumps(DS_CREATE)
    assert isinstance(next(iter(decode_line(ds, origin, RULES.prefilter))), Decoded)
