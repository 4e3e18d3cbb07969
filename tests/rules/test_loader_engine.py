"""Rule loading errors are ConfigErrors; a rule that raises never stops the other rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetrail.errors import ConfigError
from kubetrail.rules import RuleSet, load_rules
from kubetrail.rules.loader import BUNDLED_PACKS
from tests.factories import make_event

YAML = """AnalysisType: rule
RuleID: {rid}
DisplayName: {rid}
Enabled: {enabled}
Filename: {rid}.py
LogTypes: [Amazon.EKS.Audit, GCP.AuditLog]
Severity: {severity}
DedupPeriodMinutes: 30
Reports:
  MITRE ATT&CK:
    - TA0002:T1610
"""


def write_rule(d: Path, rid: str, body: str, severity: str = "Medium", enabled: str = "true",
               extra: str = "") -> None:
    (d / f"{rid}.yml").write_text(
        YAML.format(rid=rid, severity=severity, enabled=enabled) + extra)
    (d / f"{rid}.py").write_text(body)


def test_bundled_pack_loads_the_seed_rule() -> None:
    (rule,) = [r for r in load_rules() if r.rule_id == "Kubernetes.DaemonSet.Created"]
    assert rule.rule_id == "Kubernetes.DaemonSet.Created"
    assert rule.severity == "INFO" and rule.dedup_period_minutes == 60
    assert rule.mitre == (("TA0002", "T1610"), ("TA0003", "T1543"))
    assert rule.log_types == {"Amazon.EKS.Audit", "Azure.MonitorActivity", "GCP.AuditLog"}
    assert len(rule.tests) >= 7
    assert rule.source.parent == BUNDLED_PACKS / "kubernetes"


def test_a_raising_rule_is_reported_and_others_still_run(tmp_path: Path) -> None:
    write_rule(tmp_path, "Boom", "def rule(event):\n    raise KeyError('objectRef')\n")
    write_rule(tmp_path, "Ok", "def rule(event):\n    return event.verb == 'create'\n")
    matches, errors = RuleSet(load_rules([tmp_path])).evaluate(make_event())
    assert [m.rule.rule_id for m in matches] == ["Ok"]
    assert [(e.rule_id, e.function) for e in errors] == [("Boom", "rule")]
    assert "KeyError" in errors[0].message


def test_a_raising_title_falls_back_and_keeps_the_alert(tmp_path: Path) -> None:
    write_rule(tmp_path, "T", "def rule(e):\n    return True\ndef title(e):\n    return 1/0\n"
               "def severity(e):\n    return 'bogus'\n")
    (m,), (err,) = RuleSet(load_rules([tmp_path])).evaluate(make_event())
    assert m.title == "T" and m.severity == "MEDIUM" and err.function == "title"


def test_log_type_filter_and_disabled_rules(tmp_path: Path) -> None:
    write_rule(tmp_path, "A", "def rule(e):\n    return True\n")
    write_rule(tmp_path, "Disabled", "def rule(e):\n    return True\n", enabled="false")
    rules = RuleSet(load_rules([tmp_path]))
    assert [r.rule_id for r in rules.rules] == ["A"]
    assert rules.evaluate(make_event(log_type="Azure.MonitorActivity"))[0] == []
    assert len(load_rules([tmp_path], include_disabled=True)) == 2


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda y: y.replace("Severity: Medium", "Severity: Urgent"), "Severity"),
    (lambda y: y.replace("[Amazon.EKS.Audit, GCP.AuditLog]", "[AWS.CloudTrail]"), "LogTypes"),
    (lambda y: y.replace("DedupPeriodMinutes: 30", "DedupPeriodMinutes: 0"), "DedupPeriod"),
    (lambda y: y.replace("TA0002:T1610", "Execution"), "MITRE"),
    (lambda y: y.replace("Filename: R.py", "Filename: missing.py"), "import"),
    (lambda y: y + "Requires:\n  verb: create\n", "Requires"),
    (lambda y: y + "Requires:\n  user_agent: [kubectl]\n", "Requires"),
    (lambda y: y + "Requires:\n  response_code: ['403']\n", "Requires"),
    (lambda y: y + "Requires:\n  response_code: [true]\n", "Requires"),
    (lambda y: y + "Requires:\n  source_ips: [private]\n", "Requires"),
    (lambda y: y + "  bad: [yaml\n", "unreadable"),
])
def test_bad_rule_files_are_config_errors(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    write_rule(tmp_path, "R", "def rule(e):\n    return True\n")
    yml = tmp_path / "R.yml"
    yml.write_text(mutate(yml.read_text()))
    with pytest.raises(ConfigError, match=message):
        load_rules([tmp_path])


def test_rule_without_rule_function_and_duplicate_ids(tmp_path: Path) -> None:
    write_rule(tmp_path, "R", "def title(e):\n    return 'x'\n")
    with pytest.raises(ConfigError, match="no rule"):
        load_rules([tmp_path])
    (tmp_path / "R.py").write_text("def rule(e):\n    return True\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "R2.yml").write_text((tmp_path / "R.yml").read_text()
                                             .replace("Filename: R.py", "Filename: ../R.py"))
    with pytest.raises(ConfigError, match="duplicate RuleID"):
        load_rules([tmp_path])


def test_missing_rule_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such rule"):
        load_rules([tmp_path / "nope"])


def test_requires_is_enforced_before_rule(tmp_path: Path) -> None:
    write_rule(tmp_path, "R", "def rule(e):\n    return True\n",
               extra="Requires:\n  verb: [delete]\n  resource: [secrets]\n")
    rules = RuleSet(load_rules([tmp_path]))
    assert rules.evaluate(make_event())[0] == []
    assert rules.evaluate(make_event(verb="delete", resource="secrets"))[0]
