"""Panther rule files next to native ones: how the loader tells them apart, Panther's defaults and
fallbacks, destinations/description/SummaryAttributes in the finding, Tests with Mocks, and a
user rule replacing a bundled one."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from kubetrail.cli import main
from kubetrail.panther.event import PantherEvent
from kubetrail.panther.rules import is_panther_rule
from kubetrail.rules import RuleSet, load_rules
from kubetrail.rules.loader import load_rule_set
from kubetrail.rules.testing import run_rule_tests
from tests.panther.conftest import write_rule

EKS_LINE = {
    "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request", "auditID": "a-1",
    "stage": "ResponseComplete", "requestURI": "/api/v1/namespaces/default/pods", "verb": "create",
    "user": {"username": "alice@example.com"}, "sourceIPs": ["203.0.113.7"],
    "userAgent": "kubectl/v1.31.0",
    "objectRef": {"resource": "pods", "namespace": "default", "name": "web", "apiVersion": "v1"},
    "responseStatus": {"code": 201}, "requestReceivedTimestamp": "2026-11-27T12:00:00.000000Z",
    "stageTimestamp": "2026-11-27T12:00:00.100000Z",
}
SEEN: list[object] = []


def scan(tmp_path: Path, rules: Path, records: list[dict[str, object]], *extra: str
         ) -> tuple[list[dict[str, object]], str]:
    logs = tmp_path / "logs.jsonl"
    logs.write_text("".join(json.dumps(r) + "\n" for r in records))
    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    assert main(["scan", "--rules", str(rules), *extra, str(logs)],
                out, err) == 0, err.getvalue()
    out.flush()
    return [json.loads(line) for line in out.buffer.getvalue().splitlines()], err.getvalue()  # type: ignore[attr-defined]


def test_native_and_panther_rules_are_told_apart_by_their_source(tmp_path: Path) -> None:
    cases = {
        "Panther.Get": ("def rule(event):\n    return event.get('verb') == 'create'\n", True),
        "Native.Attr": ("def rule(event):\n    return event.verb == 'create'\n", False),
        "Native.Import": ("from kubetrail.events import AuditEvent\n\n\n"
                          "def rule(event: AuditEvent):\n    return True\n", False),
    }
    for rule_id, (body, panther) in cases.items():
        yml = write_rule(tmp_path, rule_id, body)
        assert is_panther_rule({}, yml.with_suffix(".py")) is panther, rule_id
    write_rule(tmp_path, "Native.Requires", "def rule(event):\n    return True\n",
               "Requires:\n  verb: [create]\n")
    assert not is_panther_rule({"Requires": {}}, tmp_path / "native_requires.py")
    rules = {r.rule_id: r for r in load_rules([tmp_path])}
    from kubetrail.errors import Origin
    from kubetrail.sources import decode_document

    (outcome,) = decode_document(EKS_LINE, Origin("t"))
    matches, errors = RuleSet(list(rules.values())).evaluate(outcome.event)  # type: ignore[attr-defined]
    assert not errors
    assert sorted(m.rule.rule_id for m in matches) == sorted(rules)


def test_panther_rules_receive_the_stored_record_with_p_fields(tmp_path: Path) -> None:
    write_rule(tmp_path, "Panther.Seen", "from tests.panther.test_rules import SEEN\n\n\n"
               "def rule(event):\n    SEEN.append(event)\n    return False\n")
    SEEN.clear()
    scan(tmp_path, tmp_path, [EKS_LINE])
    (event,) = SEEN
    assert isinstance(event, PantherEvent)
    assert event["p_log_type"] == "Amazon.EKS.Audit"
    assert event["p_event_time"] == "2026-11-27 12:00:00.100000"
    assert event["p_any_ip_addresses"] == ["203.0.113.7"] and "p_parse_time" in event
    assert event.deep_get("objectRef", "resource") == "pods"


def test_panther_defaults_and_fallbacks(tmp_path: Path) -> None:
    rule = "def rule(event):\n    return True\n"
    write_rule(tmp_path, "No.Title", rule, "DisplayName: Pods made\n")
    write_rule(tmp_path, "Title.Only", rule + "def title(event):\n    return 'by ' + "
               "event.deep_get('user', 'username')\n")
    write_rule(tmp_path, "Skipped", rule + "def destinations(event):\n    return ['SKIP']\n")
    write_rule(tmp_path, "Routed", rule + "def destinations(event):\n    return ['pager']\n"
               "def description(event):\n    return 'made by ' + event.udm('who', default='?')\n"
               "def severity(event):\n    return 'critical'\n",
               "Description: static\nSummaryAttributes: [verb, user:username, p_source_label]\n")
    docs = {d["rule_id"]: d for d in scan(tmp_path, tmp_path, [EKS_LINE])[0]}
    assert set(docs) == {"No.Title", "Title.Only", "Routed"}
    assert docs["No.Title"]["title"] == "Pods made"
    assert docs["No.Title"]["dedup_key"] == "No.Title:defaultDedupString:No.Title"
    assert docs["Title.Only"]["dedup_key"] == "Title.Only:by alice@example.com"
    routed = docs["Routed"]
    assert routed["destinations"] == ["pager"] and routed["description"] == "made by ?"
    assert routed["severity"] == "CRITICAL"
    assert routed["summary"] == {"verb": "create", "user:username": "alice@example.com",
                                 "p_source_label": None}
    assert set(routed) - {"destinations", "summary"} == set(docs["No.Title"]) - {"summary"}


def test_mocks_patch_the_rule_module_for_one_test(tmp_path: Path) -> None:
    body = ("import json\n\n\ndef allowed():\n    return '[]'\n\n\n"
            "def rule(event):\n    return event.get('user') not in json.loads(allowed())\n")
    tests = """Tests:
  - Name: mocked allow list
    ExpectedResult: false
    Mocks:
      - objectName: allowed
        returnValue: '["bob"]'
    Log: {"p_log_type": "Amazon.EKS.Audit", "user": "bob"}
  - Name: unmocked
    ExpectedResult: true
    Log: {"p_log_type": "Amazon.EKS.Audit", "user": "bob"}
"""
    write_rule(tmp_path, "Mocked", body, tests)
    results = list(run_rule_tests(load_rules([tmp_path])))
    assert [(r.name, r.passed) for r in results] == [("mocked allow list", True),
                                                     ("unmocked", True)]


def test_test_output_gives_the_reason_on_the_next_lines(tmp_path: Path) -> None:
    write_rule(tmp_path, "Wrong", "def rule(event):\n    return True\n"
               "def title(event):\n    return event['missing']\n",
               "Tests:\n  - Name: matches\n    ExpectedResult: true\n"
               "    Log: {p_log_type: Amazon.EKS.Audit}\n"
               "  - Name: should not\n    ExpectedResult: false\n"
               "    Log: {p_log_type: Amazon.EKS.Audit}\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["test", str(tmp_path)], out, err) == 1
    assert out.getvalue().splitlines() == [
        "FAIL Wrong: matches", "    title() raised KeyError('missing')",
        "FAIL Wrong: should not", "    expected False, rule() returned True",
        "0 passed, 2 failed"]


def test_a_user_rule_replaces_the_bundled_rule_with_the_same_id(tmp_path: Path) -> None:
    write_rule(tmp_path, "Kubernetes.DaemonSet.Created", "def rule(event):\n    return False\n")
    err = io.StringIO()
    rules = load_rule_set([tmp_path], err=err)
    (daemonset,) = [r for r in rules if r.rule_id == "Kubernetes.DaemonSet.Created"]
    assert daemonset.source.parent == tmp_path
    assert "replaces the bundled one" in err.getvalue()
    assert [r.rule_id for r in load_rule_set(None)] == [r.rule_id for r in load_rules()]
    write_rule(tmp_path, "Kubernetes.DaemonSet.Created", "def rule(event):\n"
               "    return event.deep_get('objectRef', 'resource') == 'pods'\n")
    docs, err_text = scan(tmp_path, tmp_path, [EKS_LINE], "--with-bundled-rules")
    assert [d["rule_id"] for d in docs] == ["Kubernetes.DaemonSet.Created"]  # fires on pods
    assert "replaces the bundled one" in err_text
    docs, err_text = scan(tmp_path, tmp_path, [EKS_LINE])  # --rules alone: only these rules
    assert [d["rule_id"] for d in docs] == ["Kubernetes.DaemonSet.Created"]
    assert "replaces" not in err_text


def test_a_panther_rule_raising_is_a_rule_error_not_a_lost_batch(tmp_path: Path) -> None:
    write_rule(tmp_path, "Raises", "def rule(event):\n    return event['nope']\n")
    docs, err = scan(tmp_path, tmp_path, [EKS_LINE])
    assert [(d["kind"], d["rule_id"]) for d in docs] == [("rule_error", "Raises")]
    assert "rule Raises rule() raised KeyError: 'nope'" in err


@pytest.mark.parametrize("value", ["ObjectRef", "OBJECTREF", "objectref"])
def test_a_lookalike_objectref_never_reaches_a_panther_rule(tmp_path: Path, value: str) -> None:
    write_rule(tmp_path, "Secrets", "def rule(event):\n"
               "    return event.deep_get('objectRef', 'resource') == 'secrets'\n")
    record = {k: v for k, v in EKS_LINE.items() if k != "objectRef"}
    record[value] = {"resource": "secrets"}
    assert scan(tmp_path, tmp_path, [record])[0] == []
