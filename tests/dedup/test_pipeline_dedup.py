"""Dedup as a user meets it through `kubetrail scan`: real EKS audit Events in a JSON-lines file,
findings on stdout. A HIGH DaemonSet create after an INFO one by the same user in the same
namespace is published as an escalation; distinct-count rules publish once the window holds
enough distinct values; a failed escalation publish is retried with the same id."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from kubetrail.cli import main
from kubetrail.dedup.sqlite import SqliteDedupStore
from kubetrail.errors import Origin, PublishError
from kubetrail.findings import Finding
from kubetrail.pipeline import Pipeline
from kubetrail.publish.base import PublishResult
from kubetrail.rules import RuleSet, load_rules
from kubetrail.sources.base import Decoded
from tests.factories import T0, ds_manifest, make_event

PRIVILEGED = ds_manifest(containers=[{"name": "x", "image": "alpine",
                                      "securityContext": {"privileged": True}}],
                         volumes=[{"name": "root", "hostPath": {"path": "/"}}])
HOST_NETWORK = ds_manifest(hostNetwork=True)
BENIGN = ds_manifest()


def ds_create(minute: int, manifest: dict[str, Any], user: str = "alice@example.com",
              namespace: str = "default") -> dict[str, Any]:
    """An EKS audit Event (audit.k8s.io/v1) of a DaemonSet create, as the API server writes it."""
    return {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": f"a-{minute}-{user}", "stage": "ResponseComplete", "verb": "create",
        "requestURI": f"/apis/apps/v1/namespaces/{namespace}/daemonsets",
        "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["203.0.113.7"], "userAgent": "kubectl/v1.31.0",
        "objectRef": {"resource": "daemonsets", "namespace": namespace, "name": "node-agent",
                      "apiGroup": "apps", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 201}, "requestObject": manifest,
        "requestReceivedTimestamp": f"2026-11-27T10:{minute:02d}:00.000000Z",
        "stageTimestamp": f"2026-11-27T10:{minute:02d}:00.100000Z",
    }


def secret_get(minute: int, name: str | None, user: str = "mallory@example.com"
               ) -> dict[str, Any]:
    event = ds_create(minute, BENIGN, user=user)
    event.update(verb="get", requestURI="/api/v1/namespaces/default/secrets/" + (name or ""),
                 objectRef={"resource": "secrets", "namespace": "default", "apiVersion": "v1",
                            **({"name": name} if name is not None else {})},
                 responseStatus={"metadata": {}, "code": 200}, requestObject=None)
    return event


def scan(tmp_path: Path, records: list[dict[str, Any]], *extra: str
         ) -> tuple[int, list[dict[str, Any]], str]:
    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    status = main(["scan", *extra, str(path)], out=out, err=err)
    out.flush()
    lines = out.buffer.getvalue().splitlines()  # type: ignore[attr-defined]
    return status, [orjson.loads(x) for x in lines], err.getvalue()


def test_high_daemonset_after_an_info_one_is_published_as_an_escalation(tmp_path: Path) -> None:
    status, findings, err = scan(tmp_path, [
        ds_create(0, BENIGN), ds_create(5, PRIVILEGED), ds_create(6, PRIVILEGED),
        ds_create(7, HOST_NETWORK), ds_create(8, BENIGN),
        ds_create(9, PRIVILEGED, namespace="other"),  # another key: its own first finding
    ])
    assert status == 0, err
    assert [(f["severity"], f["context"]["namespace"]) for f in findings] == [
        ("INFO", "default"), ("HIGH", "default"), ("HIGH", "other")]
    first, escalation, other = findings
    assert first.get("kind", "finding") == "finding" and "escalates" not in first
    assert escalation["kind"] == "escalation" and escalation["escalates"] == first["id"]
    assert escalation["id"] != first["id"] and escalation["first_seen"] == first["first_seen"]
    assert escalation["count"] == 2 and escalation["risk"]["privileged_containers"] == ["x"]
    assert other.get("kind", "finding") == "finding"
    assert "deduplicated=3" in err


def test_escalation_ids_are_stable_across_scans_of_the_same_window(tmp_path: Path) -> None:
    records = [ds_create(0, BENIGN), ds_create(5, HOST_NETWORK), ds_create(9, PRIVILEGED)]
    _, first_run, _ = scan(tmp_path, records)
    _, second_run, _ = scan(tmp_path, records)  # a new in-memory store: everything again
    assert [f["severity"] for f in first_run] == ["INFO", "MEDIUM", "HIGH"]
    assert [f["id"] for f in first_run] == [f["id"] for f in second_run]
    assert {f["escalates"] for f in first_run[1:]} == {first_run[0]["id"]}


def test_the_same_file_twice_with_one_dedup_db_escalates_nothing_new(tmp_path: Path) -> None:
    db = str(tmp_path / "dedup.sqlite")
    records = [ds_create(0, BENIGN), ds_create(5, PRIVILEGED)]
    _, first, _ = scan(tmp_path, records, "--dedup-db", db)
    _, second, err = scan(tmp_path, records, "--dedup-db", db)
    assert len(first) == 2 and second == [] and "deduplicated=2" in err


class FailOnce:
    """A publisher that fails the first publish of each listed severity, then accepts."""

    def __init__(self, *severities: str) -> None:
        self.fail = set(severities)
        self.received: list[Finding] = []

    def publish(self, findings: Sequence[Finding]) -> Sequence[PublishResult]:
        out = []
        for f in findings:
            if f.severity in self.fail:
                self.fail.discard(f.severity)
                out.append(PublishResult(f.id, "InternalError"))
            else:
                self.received.append(f)
                out.append(PublishResult(f.id))
        return out


def test_a_failed_escalation_publish_is_retried_with_the_same_id() -> None:
    origin = Origin("test", "1")
    info = Decoded(make_event(time=T0, request_object=BENIGN), origin)
    high = Decoded(make_event(time=T0.replace(minute=5), request_object=PRIVILEGED), origin)
    pub = FailOnce("HIGH")
    pipe = Pipeline(RuleSet(load_rules()), SqliteDedupStore(), pub)
    with pytest.raises(PublishError, match="not published"):
        pipe.process([info, high])
    assert [f.severity for f in pub.received] == ["INFO"]
    retry = pipe.process([info, high])  # the platform re-delivers the whole batch
    assert [(f.severity, f.document["kind"]) for f in retry.published] == [("HIGH", "escalation")]
    assert retry.published[0].document["escalates"] == pub.received[0].id
    assert retry.deduplicated == 1
    assert pipe.process([info, high]).published == []


DISTINCT_RULE = """\
AnalysisType: rule
RuleID: Test.BulkSecretRead
DisplayName: Bulk secret read
Filename: bulk.py
LogTypes: [Amazon.EKS.Audit]
Severity: Medium
DedupPeriodMinutes: 30
Threshold: 3
Distinct: name
Requires:
  verb: [get]
  resource: [secrets]
"""
DISTINCT_PY = """\
def rule(event):
    return True


def dedup(event):
    return event.username or ""
"""


def distinct_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bulk.yml").write_text(DISTINCT_RULE, encoding="utf-8")
    (rules / "bulk.py").write_text(DISTINCT_PY, encoding="utf-8")
    return rules


def test_distinct_count_rule_publishes_when_enough_distinct_names_were_read(
        tmp_path: Path) -> None:
    rules = distinct_rules(tmp_path)
    records = [secret_get(0, "db"), secret_get(1, "db"), secret_get(2, "db"),
               secret_get(3, "tls"), secret_get(4, "tls"), secret_get(5, "api-token"),
               secret_get(6, "ssh"), secret_get(7, "db", user="bob@example.com")]
    status, findings, err = scan(tmp_path, records, "--rules", str(rules))
    assert status == 0, err
    assert [(f["rule_id"], f["count"]) for f in findings] == [("Test.BulkSecretRead", 6)]
    assert findings[0]["context"]["name"] == "api-token"
    assert findings[0]["first_seen"] == "2026-11-27T10:00:00.100000Z"


def test_records_without_the_distinct_field_count_as_one_value(tmp_path: Path) -> None:
    rules = distinct_rules(tmp_path)
    nameless = [secret_get(m, None) for m in range(4)]
    _, findings, _ = scan(tmp_path, [*nameless, secret_get(5, "db")], "--rules", str(rules))
    assert findings == []  # "" and "db": two distinct values, below the threshold of 3
    _, findings, _ = scan(tmp_path, [*nameless, secret_get(5, "db"), secret_get(6, "tls")],
                          "--rules", str(rules))
    assert [f["context"]["name"] for f in findings] == ["tls"]
