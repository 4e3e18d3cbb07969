"""Shared helpers of the pack tests: load the bundled rules once, evaluate one rule on an event."""

from __future__ import annotations

from kubetrail.events import AuditEvent
from kubetrail.rules import Match, RuleSet, load_rules
from kubetrail.rules.loader import Rule
from kubetrail.rules.testing import run_rule_tests

PACK = load_rules()
BY_ID = {r.rule_id: r for r in PACK}
LOG_TYPES = ("Amazon.EKS.Audit", "Azure.MonitorActivity", "GCP.AuditLog")


def match(rule_id: str, event: AuditEvent) -> Match | None:
    """The rule's match on the event (None when it does not match); a rule error fails."""
    found, errors = RuleSet([BY_ID[rule_id]]).evaluate(event)
    assert errors == []
    return found[0] if found else None


def yaml_test_cases(rule_ids: list[str]) -> list[tuple[Rule, str]]:
    """(rule, test name) of every YAML test of the given rules, for parametrize."""
    return [(BY_ID[rid], t.name) for rid in rule_ids for t in BY_ID[rid].tests]


def run_yaml_test(rule: Rule, name: str) -> None:
    """Run one of the rule's YAML tests through the real decoders and engine."""
    (result,) = [r for r in run_rule_tests([rule]) if r.name == name]
    assert result.passed, result.detail


def assert_tests_cover_the_clouds(rule: Rule) -> None:
    """At least one positive per cloud, and negatives, among the rule's YAML tests."""
    positives = {str(t.log.get("p_log_type")) for t in rule.tests if t.expected}
    assert positives >= set(LOG_TYPES), (rule.rule_id, positives)
    assert sum(not t.expected for t in rule.tests) >= 4, rule.rule_id
