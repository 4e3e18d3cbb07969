"""AKS: Event Hub bodies of diagnostic records, from the corpus's real captures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from kubetrail.sources.base import Decoded, Failure, Prefiltered, Skip
from kubetrail.sources.eventhub import (
    cluster_from_resource_id,
    decode_aks_record,
    decode_eventhub_body,
)
from tests.sources.helpers import (
    CORPUS,
    ORIGIN,
    RULES,
    corpus_doc,
    corpus_lines,
    eventhub_body,
    events,
    failure,
    findings,
    kinds,
    only,
    only_event,
)

SYSDIG_BODY = "aks/sysdiglabs-aks-audit-log_eventhub-body.json"
SUMO_ADMIN = "aks/sumologic-docs_kube-audit-admin_record.json"


def test_real_eventhub_body_decodes_every_record() -> None:
    raw = (CORPUS / SYSDIG_BODY).read_bytes()
    outcomes = list(decode_eventhub_body(raw, ORIGIN))
    assert kinds(outcomes) == ["Decoded"] * 22
    assert outcomes[2].origin == ORIGIN.child("records[2]")
    evs = events(outcomes)
    assert {e.cluster for e in evs} == {"KUBETEST"}  # upper-cased by AKS, kept as given
    assert {e.cloud for e in evs} == {"azure"}
    conflict = evs[2]
    assert (conflict.verb, conflict.resource, conflict.username, conflict.response_code) == (
        "create", "configmaps", "aksService", 409)
    assert conflict.time == datetime(2020, 5, 5, 16, 16, 37, 705304, tzinfo=UTC)
    assert conflict.raw["properties"]["log"].endswith("}\n")
    assert evs[10].verb == "watch" and evs[10].username == "nodeclient"


def test_single_record_with_utf8_bom() -> None:
    raw = (CORPUS / "aks/sysdiglabs-aks-audit-log_single-record.json").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    ev = only_event(decode_eventhub_body(raw, ORIGIN))
    assert ev.cluster == "KUBEAUDITLOGTESTCLUSTER"
    assert ev.username == "system:serviceaccount:kube-system:generic-garbage-collector"
    assert ev.request_uri == "/apis/autoscaling/v2beta1?timeout=32s" and ev.resource is None


def test_kube_audit_admin_and_kube_audit_records_of_2025() -> None:
    ev = only_event(decode_eventhub_body(eventhub_body([corpus_doc(SUMO_ADMIN)]), ORIGIN))
    assert (ev.verb, ev.resource, ev.api_group) == (
        "create", "subjectaccessreviews", "authorization.k8s.io")
    assert ev.username == "system:node:aks-hpalakspool-35907486-vmss000006"
    assert ev.cluster == "HPALDEVCLUSTER"
    assert ev.request_object is not None and ev.request_object["kind"] == "SubjectAccessReview"
    record = {**corpus_doc("aks/sumologic-docs_kube-audit_record.json")}
    ev = only_event(decode_eventhub_body(eventhub_body([record]), ORIGIN))
    assert ev.cluster == "ARC-CLUSTER02"
    assert ev.time == datetime(2025, 4, 20, 16, 29, 59, 994988, tzinfo=UTC)


def test_log_as_a_json_object_is_accepted() -> None:
    record = corpus_doc(SUMO_ADMIN)
    as_object = {**record, "properties": {**record["properties"],
                                          "log": orjson.loads(record["properties"]["log"])}}
    from_string = only_event(decode_eventhub_body(eventhub_body([record]), ORIGIN))
    from_object = only_event(decode_eventhub_body({"records": [as_object]}, ORIGIN))
    assert from_object.verb == from_string.verb == "create"
    assert from_object.username == from_string.username
    assert from_object.raw is as_object


def test_categories() -> None:
    record = corpus_doc(SUMO_ADMIN)
    body = {"records": [{**record, "category": "kube-apiserver"}, {**record, "category": "guard"},
                        {**record, "category": "Kube-Audit-Admin"}, {**record, "category": None}]}
    outcomes = list(decode_eventhub_body(body, ORIGIN))
    assert kinds(outcomes) == ["Skip:non-audit-category", "Skip:non-audit-category",
                               "Decoded", "Failure"]
    assert failure(outcomes).reason == "category: expected a string, got null"


def test_broken_log_fails_alone() -> None:
    record = corpus_doc(SUMO_ADMIN)
    broken = {**record, "properties": {**record["properties"],
                                       "log": record["properties"]["log"][:300]}}
    wrong = {**record, "properties": {"log": 42}}
    outcomes = list(decode_eventhub_body({"records": [broken, wrong, record]}, ORIGIN))
    assert kinds(outcomes) == ["Failure", "Failure", "Decoded"]
    first, second = outcomes[0], outcomes[1]
    assert isinstance(first, Failure) and first.reason.startswith("invalid properties.log JSON")
    assert orjson.loads(first.raw) == broken  # the whole record, for the dead-letter path
    assert isinstance(second, Failure)
    assert second.reason == "properties.log: expected a JSON string or object, got number"


def test_prefilter_sees_the_log_string() -> None:
    records = corpus_lines("aks/panther-analysis_aks-diagnostic-records.jsonl")
    plain = list(decode_eventhub_body(eventhub_body(records), ORIGIN))
    fast = list(decode_eventhub_body(eventhub_body(records), ORIGIN, RULES.prefilter))
    assert sum(isinstance(o, Prefiltered) for o in fast) >= 30
    assert findings(fast) == findings(plain) != []


def test_bodies_in_a_list_and_empty_bodies() -> None:
    record = corpus_doc(SUMO_ADMIN)
    outcomes = list(decode_eventhub_body([{"records": [record]}, record], ORIGIN))
    assert kinds(outcomes) == ["Decoded", "Decoded"]
    assert outcomes[0].origin == ORIGIN.child("[0]").child("records[0]")
    assert list(decode_eventhub_body(b'{"records": []}', ORIGIN)) == [Skip("empty", ORIGIN)]
    assert failure(decode_eventhub_body(b'{"records": {}}', ORIGIN)).reason == \
        "records: expected an array, got object"
    assert failure(decode_eventhub_body(b'{"records": [', ORIGIN)).reason.startswith(
        "invalid Event Hub body JSON")


def test_record_time_is_the_fallback_and_cluster_default() -> None:
    log = orjson.dumps({"kind": "Event", "verb": "get", "user": {"username": "u"}}).decode()
    record: dict[str, Any] = {"category": "kube-audit", "properties": {"log": log + "\n"},
                              "time": "2020-05-05T16:16:37.0000000Z"}
    outcome = decode_aks_record(record, ORIGIN, default_cluster="from-label")
    assert isinstance(outcome, Decoded)
    assert outcome.event.time == datetime(2020, 5, 5, 16, 16, 37, tzinfo=UTC)
    assert outcome.event.cluster == "from-label"


def test_cluster_from_resource_id() -> None:
    rid = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ContainerService/" \
          "managedClusters/cluster"
    assert cluster_from_resource_id(rid) == "cluster"
    assert cluster_from_resource_id(rid + "/") == "cluster"
    assert cluster_from_resource_id("") is None and cluster_from_resource_id(None) is None


def test_a_record_that_is_not_an_object() -> None:
    outcome = only(decode_eventhub_body({"records": ["text"]}, ORIGIN))
    assert isinstance(outcome, Failure)
    assert outcome.reason == "AKS record: expected an object, got string"
