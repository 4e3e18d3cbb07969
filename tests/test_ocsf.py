"""OCSF Detection Findings, validated against py-ocsf-models (a maintained model of the schema),
built from real findings: the bundled samples of each cloud run through the real rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kubetrail.dedup.sqlite import SqliteDedupStore
from kubetrail.events import AuditEvent
from kubetrail.findings import build_finding
from kubetrail.ocsf import ocsf_document
from kubetrail.rules import RuleSet, load_rules
from kubetrail.sources import read_paths
from kubetrail.sources.base import Decoded

models = pytest.importorskip("py_ocsf_models.events.findings.detection_finding",
                             reason="py-ocsf-models is a dev dependency (make test installs it)")

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def real_findings() -> Iterator[tuple[dict[str, Any], AuditEvent]]:
    """Every finding the bundled rules raise on the bundled samples, with its event."""
    rules = RuleSet(load_rules())
    store = SqliteDedupStore()
    files = sorted(SAMPLES.glob("*.json*"))
    for outcome in read_paths(files, None):
        if not isinstance(outcome, Decoded):
            continue
        matches, _ = rules.evaluate(outcome.event, outcome.origin)
        for match in matches:
            assert match.event.time is not None
            period = timedelta(minutes=match.rule.dedup_period_minutes)
            claim = store.claim(match.dedup_key, match.event.time, period)
            doc = dict(build_finding(match, claim, match.event.time).document)
            yield doc, match.event


FINDINGS = list(real_findings())


def test_samples_give_findings_on_every_cloud() -> None:
    assert {doc["cloud"] for doc, _ in FINDINGS} == {"aws", "azure", "gcp"}


@pytest.mark.parametrize(("doc", "event"), FINDINGS,
                         ids=[f"{d['cloud']}-{d['rule_id']}-{i}" for i, (d, _) in
                              enumerate(FINDINGS)])
def test_every_real_finding_is_a_valid_detection_finding(doc: dict[str, Any],
                                                         event: AuditEvent) -> None:
    ocsf = ocsf_document(doc, event)
    model = models.DetectionFinding.model_validate(ocsf)
    assert model.class_uid == 2004 and model.category_uid == 2
    assert model.type_uid == 200401
    assert model.finding_info.uid == doc["id"]
    assert model.finding_info.analytic is not None
    assert model.finding_info.analytic.uid == doc["rule_id"]
    assert model.metadata.product.name == "kubetrail"
    assert model.metadata.version == "1.5.0"
    assert model.severity_id == {"INFO": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4,
                                 "CRITICAL": 5}[doc["severity"]]
    assert model.cloud is not None and model.cloud.provider == {
        "aws": "AWS", "azure": "Azure", "gcp": "GCP"}[doc["cloud"]]
    assert model.api is not None and model.api.operation == event.verb
    assert model.api.request is not None and model.api.request.uid == event.audit_id
    assert ocsf["actor"]["user"]["name"] == event.username
    assert [g["name"] for g in ocsf["actor"]["user"].get("groups", [])] == list(event.groups)
    assert ocsf["src_endpoint"]["ip"] == event.source_ips[0]
    resource = ocsf["resources"][0]
    assert (resource["type"], resource.get("name"), resource.get("namespace")) == (
        event.resource, event.name, event.namespace)
    assert resource["data"].get("cluster") == event.cluster
    attacks = model.finding_info.attacks or []
    assert [(a.tactic.uid if a.tactic else None, a.technique.uid if a.technique else None)
            for a in attacks] == [(m["tactic"], m["technique"].split(".")[0])
                                  for m in doc["mitre"]]
    assert all(a.technique and a.technique.name for a in attacks)
    # Nothing kubetrail knows is lost: what OCSF has no attribute for is in `unmapped`.
    assert ocsf["unmapped"]["dedup_key"] == doc["dedup_key"]
    assert ocsf["unmapped"]["risk"] == doc["risk"]


def test_account_and_region_from_the_delivered_record() -> None:
    by_cloud = {doc["cloud"]: (doc, event) for doc, event in FINDINGS}
    doc, event = by_cloud["gcp"]
    cloud = ocsf_document(doc, event)["cloud"]
    labels = event.raw["resource"]["labels"]
    assert cloud["account"]["uid"] == labels["project_id"]
    assert cloud["region"] == labels["location"]
    doc, event = by_cloud["azure"]
    subscription = event.raw["resourceId"].split("/")[2]
    assert ocsf_document(doc, event)["cloud"]["account"]["uid"] == subscription


def test_escalation_is_an_update_of_the_first_finding() -> None:
    doc, event = FINDINGS[0]
    escalation = {**doc, "kind": "escalation", "id": "e" * 32, "escalates": doc["id"],
                  "severity": "CRITICAL"}
    ocsf = ocsf_document(escalation, event)
    model = models.DetectionFinding.model_validate(ocsf)
    assert (model.activity_id, model.type_uid) == (2, 200402)
    assert model.finding_info.uid == doc["id"]
    assert model.metadata.uid == "e" * 32
    assert model.severity_id == 5


def test_without_the_event_the_document_alone_still_validates() -> None:
    doc, _ = FINDINGS[0]
    ocsf = ocsf_document(doc)
    models.DetectionFinding.model_validate(ocsf)
    assert "request" not in ocsf["api"] and "account" not in ocsf.get("cloud", {})


def test_sub_techniques_nest_under_their_technique() -> None:
    doc, event = FINDINGS[0]
    ocsf = ocsf_document({**doc, "mitre": [{"tactic": "TA0006", "technique": "T1552.007"}]},
                         event)
    (a,) = models.DetectionFinding.model_validate(ocsf).finding_info.attacks or []
    assert a.technique is not None and a.sub_technique is not None
    assert (a.technique.uid, a.technique.name) == ("T1552", "Unsecured Credentials")
    assert (a.sub_technique.uid, a.sub_technique.name) == ("T1552.007", "Container API")
