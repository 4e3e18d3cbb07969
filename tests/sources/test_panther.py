"""Panther-shaped logs (the rules' Tests): one Decoded each, normalized like live records."""

from __future__ import annotations

import orjson

from kubetrail import record
from kubetrail.errors import Origin
from kubetrail.rules import load_rules
from kubetrail.sources import decode_document
from kubetrail.sources.base import Decoded, Failure
from kubetrail.sources.detect import decode_panther
from tests.sources.helpers import ORIGIN, corpus_lines, native, only_event, pubsub_push


def test_every_bundled_rule_test_log_decodes_to_one_event() -> None:
    tests = [t for rule in load_rules(include_disabled=True) for t in rule.tests]
    assert len(tests) >= 10
    for test in tests:
        outcomes = list(decode_document(test.log, Origin("rule", test.name)))
        assert len(outcomes) == 1 and isinstance(outcomes[0], Decoded), (test.name, outcomes)


def test_each_log_type_is_normalized_like_the_live_record() -> None:
    eks = corpus_lines("eks/panther-analysis_eks-audit-events.jsonl")[16]
    as_panther = only_event([decode_panther(eks, ORIGIN)])
    live = only_event(decode_document(native(eks), ORIGIN))
    assert (as_panther.verb, as_panther.username, as_panther.time) == (
        live.verb, live.username, live.time)
    gke = corpus_lines("gke/khi_gke-audit-logentries.jsonl")[0]
    as_panther = only_event([decode_panther({**gke, "p_log_type": "GCP.AuditLog"}, ORIGIN)])
    pushed = only_event(decode_document(pubsub_push(gke), ORIGIN))
    assert record.replace(as_panther, raw=gke) == pushed


def test_source_label_names_the_cluster_only_when_the_record_has_none() -> None:
    aks = corpus_lines("aks/panther-analysis_aks-diagnostic-records.jsonl")
    assert only_event([decode_panther(aks[0], ORIGIN)]).cluster == "aks-cluster"
    assert only_event([decode_panther({**aks[1], "p_source_label": "label"}, ORIGIN)]).cluster \
        == "cluster"  # from resourceId
    gke = corpus_lines("gke/panther-analysis_gke-logentries.jsonl")
    assert only_event([decode_panther(gke[18], ORIGIN)]).cluster == "gke-cluster"
    labelled = {**gke[35], "p_source_label": "label"}
    assert only_event([decode_panther(labelled, ORIGIN)]).cluster == "gke-cluster"


def test_gcp_log_without_service_name_is_accepted_when_declared() -> None:
    entry = corpus_lines("gke/panther-analysis_gke-logentries.jsonl")[4]
    assert "serviceName" not in entry["protoPayload"]
    ev = only_event(decode_document({**entry, "p_log_type": "GCP.AuditLog"}, ORIGIN))
    assert ev.verb == "create" and ev.cluster == "some-project-cluster"
    other = {**entry, "protoPayload": {**entry["protoPayload"],
                                       "serviceName": "container.googleapis.com"}}
    assert [o.reason for o in decode_document({**other, "p_log_type": "GCP.AuditLog"}, ORIGIN)
            ] == ["not-k8s-audit"]  # type: ignore[union-attr]


def test_unknown_or_missing_log_type_fails() -> None:
    for value, shown in (("Okta.SystemLog", "'Okta.SystemLog'"), (None, "null"),
                         (3, "number")):
        outcome = decode_panther({"p_log_type": value}, ORIGIN)
        assert isinstance(outcome, Failure)
        assert outcome.reason.startswith(f"unsupported p_log_type {shown}")
        assert orjson.loads(outcome.raw) == {"p_log_type": value}
