"""The finding document: exact shape, stable id, and cut — never dropped — large values."""

from __future__ import annotations

from datetime import timedelta

import orjson

from kubetrail.dedup.sqlite import SqliteDedupStore
from kubetrail.findings import CONTEXT_FIELDS, MAX_DOCUMENT_BYTES, build_finding
from kubetrail.rules import RuleSet, load_rules
from tests.factories import SEED_RULE, T0, ds_manifest, make_event

RULES = RuleSet(load_rules([SEED_RULE]))
DOC_KEYS = {"id", "rule_id", "title", "severity", "description", "runbook", "reference",
            "dedup_key", "dedup_period_minutes", "cloud", "log_type", "cluster", "event_time",
            "first_seen", "count", "mitre", "tags", "context", "risk"}


def finding_for(**overrides: object):  # type: ignore[no-untyped-def]
    (match,), _ = RULES.evaluate(make_event(**overrides))
    claim = SqliteDedupStore().claim(match.dedup_key, T0, timedelta(minutes=60))
    return build_finding(match, claim, T0)


def test_document_has_exactly_the_design_fields() -> None:
    f = finding_for(request_object=ds_manifest(hostNetwork=True))
    doc = orjson.loads(f.to_json())
    assert set(doc) == DOC_KEYS
    assert tuple(doc["context"]) == CONTEXT_FIELDS
    assert doc["context"] == {
        "username": "alice@example.com", "sourceIPs": ["203.0.113.7"],
        "userAgent": "kubectl/v1.31.0", "namespace": "default", "verb": "create",
        "resource": "daemonsets", "requestURI": "/apis/apps/v1/namespaces/default/daemonsets",
        "responseStatus": {"code": 201}, "cluster": "prod", "name": "node-agent"}
    assert doc["mitre"] == [{"tactic": "TA0002", "technique": "T1610"},
                            {"tactic": "TA0003", "technique": "T1543"}]
    assert doc["severity"] == "MEDIUM" and doc["risk"]["host_namespaces"] == ["hostNetwork"]
    assert doc["event_time"] == doc["first_seen"] == "2026-11-27T12:00:00Z"
    assert (doc["count"], doc["cloud"], doc["log_type"]) == (1, "aws", "Amazon.EKS.Audit")
    assert (f.rule_id, f.severity, f.cluster, f.id) == (doc["rule_id"], "MEDIUM", "prod", doc["id"])


def test_id_is_stable_per_window() -> None:
    assert finding_for().id == finding_for(source_ips=("198.51.100.1",)).id
    assert finding_for().id != finding_for(namespace="other").id


def test_megabyte_values_are_cut_with_a_marker_under_the_limit() -> None:
    huge = "A" * (3 * 1024 * 1024)
    manifest = ds_manifest(containers=[{"name": f"c{i}", "image": huge[: 200_000 + i]}
                                       for i in range(30)])
    f = finding_for(user_agent=huge, request_uri="/x?" + huge, request_object=manifest,
                    source_ips=tuple(f"10.0.{i // 256}.{i % 256}" for i in range(5000)))
    body = f.to_json()
    assert len(body) <= MAX_DOCUMENT_BYTES
    doc = orjson.loads(body)
    assert doc["context"]["userAgent"].startswith("AAAA")
    assert "[kubetrail: truncated" in doc["context"]["userAgent"]
    assert "[kubetrail: truncated" in doc["context"]["sourceIPs"][-1]
    assert "[kubetrail: truncated" in doc["risk"]["images"][-1]
    assert doc["rule_id"] == "Kubernetes.DaemonSet.Created"


def test_hostile_strings_stay_inside_their_json_values() -> None:
    f = finding_for(username='eve"}\n{"rule_id":"fake', name="\u2028\x00")
    lines = f.to_json().split(b"\n")
    assert len(lines) == 1
    doc = orjson.loads(lines[0])
    assert doc["context"]["username"] == 'eve"}\n{"rule_id":"fake'
    assert doc["rule_id"] == "Kubernetes.DaemonSet.Created"
