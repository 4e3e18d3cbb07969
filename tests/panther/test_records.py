"""The record a Panther rule sees for a live delivery, per log type, from the real corpus: what
Panther stores (EKS Event, AKS diagnostic record with properties.log as a string, GKE LogEntry)
plus p_log_type, p_source_label, p_event_time, p_parse_time and p_any_ip_addresses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from kubetrail.errors import Origin
from kubetrail.events import AuditEvent
from kubetrail.panther.records import panther_record
from kubetrail.sources import decode_document, encode_awslogs
from kubetrail.sources.base import Decoded

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def events(doc: object) -> list[AuditEvent]:
    return [o.event for o in decode_document(doc, Origin("t")) if isinstance(o, Decoded)]


def test_eks_event_from_cloudwatch() -> None:
    line = (CORPUS / "eks" / "panther-analysis_eks-audit-events.jsonl").read_text().splitlines()[0]
    raw = json.loads(line)
    raw.pop("p_log_type", None)
    raw["p_source_label"] = "forged"  # a record cannot bring Panther's own fields
    raw["P_Enrichment"] = {"tor_exit_nodes": ["203.0.113.7"]}
    (event,) = events(encode_awslogs("/aws/eks/prod/cluster", "s", [json.dumps(raw)]))
    record = panther_record(event, NOW)
    assert record["p_log_type"] == "Amazon.EKS.Audit" and record["p_source_label"] == "prod"
    assert record["p_parse_time"] == "2026-11-29 08:00:00.000000"
    assert record["p_event_time"] == event.time.strftime("%Y-%m-%d %H:%M:%S.%f")  # type: ignore[union-attr]
    assert record["p_any_ip_addresses"] == list(event.source_ips)
    assert not any(k.lower() == "p_enrichment" for k in record)
    assert {k: v for k, v in record.items() if not k.startswith("p_")} == {
        k: v for k, v in raw.items() if not k.lower().startswith("p_")}


def test_aks_record_keeps_properties_log_as_its_json_string() -> None:
    doc = json.loads((CORPUS / "aks" / "sumologic-docs_kube-audit_record.json").read_text())
    (event,) = events(doc)
    record = panther_record(event, NOW)
    assert record["p_log_type"] == "Azure.MonitorActivity"
    assert isinstance(record["properties"]["log"], str)
    assert record["properties"] == doc["properties"] and record["category"] == "kube-audit"
    assert record["p_any_ip_addresses"] == list(event.source_ips) != []
    assert record.get("p_source_label") == event.cluster


def test_gke_logentry() -> None:
    doc = json.loads((CORPUS / "gke" / "otel-contrib_gke-k8s-activity-logentry.json").read_text())
    (event,) = events(doc)
    record = panther_record(event, NOW)
    assert record["p_log_type"] == "GCP.AuditLog"
    assert record["protoPayload"] == doc["protoPayload"]
    assert record["p_source_label"] == doc["resource"]["labels"]["cluster_name"]
    caller = doc["protoPayload"]["requestMetadata"]["callerIp"]
    assert record["p_any_ip_addresses"] == [caller]


def test_a_panther_shaped_log_keeps_its_own_p_fields() -> None:
    log = {"p_log_type": "Amazon.EKS.Audit", "p_source_label": "lab", "kind": "Event",
           "verb": "get", "VERB": "create", "user": {"username": "a"}}
    (event,) = events(log)
    record = panther_record(event, NOW)
    assert record["p_source_label"] == "lab" and "p_parse_time" not in record
    assert "VERB" not in record and record["verb"] == "get"
