"""`Distinct:` in rule YAML: which AuditEvent field's distinct values count towards Threshold,
validated at load time; the severity ranking dedup compares for escalation."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetrail.dedup.window import MAX_DISTINCT
from kubetrail.errors import ConfigError
from kubetrail.rules.loader import (
    SEVERITIES,
    distinct_value,
    load_rules,
    severity_rank,
)
from tests.factories import make_event


def write(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "r.py").write_text("def rule(e):\n    return True\n", encoding="utf-8")
    (tmp_path / "r.yml").write_text(
        "RuleID: R\nFilename: r.py\nLogTypes: [Amazon.EKS.Audit]\nSeverity: Low\n" + extra,
        encoding="utf-8")
    return tmp_path


def test_distinct_names_an_audit_event_field(tmp_path: Path) -> None:
    (rule,) = load_rules([write(tmp_path, "Threshold: 15\nDistinct: name\n")])
    assert (rule.distinct, rule.threshold) == ("name", 15)


def test_rules_without_distinct_have_none(tmp_path: Path) -> None:
    (rule,) = load_rules([write(tmp_path, "Threshold: 3\n")])
    assert rule.distinct is None


@pytest.mark.parametrize(("extra", "message"), [
    ("Threshold: 5\nDistinct: objectRef.name\n", "Distinct must name one of"),
    ("Threshold: 5\nDistinct: raw\n", "Distinct must name one of"),
    ("Threshold: 5\nDistinct: [name]\n", "Distinct must name one of"),
    ("Threshold: 5\nDistinct: namespace+raw\n", "Distinct must name one of"),
    ("Threshold: 5\nDistinct: name+\n", "Distinct must name one of"),
    ("Distinct: name\n", "Threshold from 2"),
    ("Threshold: 1\nDistinct: name\n", "Threshold from 2"),
    (f"Threshold: {MAX_DISTINCT + 1}\nDistinct: name\n", f"Threshold from 2 to {MAX_DISTINCT}"),
])
def test_bad_distinct_is_a_config_error(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_rules([write(tmp_path, extra)])


def test_distinct_value_of_scalars_tuples_and_missing_fields() -> None:
    event = make_event(name=None, source_ips=("203.0.113.7", "10.0.0.1"), response_code=403)
    assert distinct_value(event, "name") == ""
    assert distinct_value(event, "source_ips") == "203.0.113.7\x1f10.0.0.1"
    assert distinct_value(event, "response_code") == "403"
    assert distinct_value(event, "username") == "alice@example.com"
    assert distinct_value(event, "namespace+username") == "default\x1ealice@example.com"
    assert distinct_value(event, "namespace+name") == "default\x1e"


def test_severity_ranks_follow_the_severity_order() -> None:
    assert [severity_rank(s) for s in ("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")] == [
        0, 1, 2, 3, 4]
    assert len(SEVERITIES) == 5
