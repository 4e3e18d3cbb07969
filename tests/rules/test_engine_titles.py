"""Titles are printable whatever a rule's title() returns (the common printable case unchanged)."""

from __future__ import annotations

from kubetrail import record
from kubetrail.rules import RuleSet, load_rules
from tests.factories import make_event


def _title_of(text: str) -> str:
    rule = next(r for r in load_rules() if r.rule_id == "Kubernetes.DaemonSet.Created")
    rule = record.replace(rule, rule=lambda e: True, title=lambda e: text)
    matches, _ = RuleSet([rule]).evaluate(make_event(verb="create", resource="daemonsets"))
    return matches[0].title


def test_control_characters_in_titles_are_replaced() -> None:
    assert _title_of("ds \x1b[31mred\x1b[0m\nnext") == "ds \ufffd[31mred\ufffd[0m\ufffdnext"
    assert _title_of("plain title: kube-system/ds") == "plain title: kube-system/ds"
    assert _title_of("x" * 1200) == "x" * 1000 + "…"
