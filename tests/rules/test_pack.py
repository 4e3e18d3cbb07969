"""Invariants of the whole bundled pack (every rule, whoever wrote it): the prefilter stays
derived and selective, every rule documents itself and tests each cloud, and `kubetrail test`
passes everything."""

from __future__ import annotations

import pytest

from kubetrail.rules import RuleSet
from kubetrail.rules.loader import Rule
from kubetrail.rules.testing import run_rule_tests
from tests.rules.pack import PACK, assert_tests_cover_the_clouds


@pytest.mark.parametrize("rule", PACK, ids=lambda r: r.rule_id)
def test_every_rule_is_documented_and_prefiltered(rule: Rule) -> None:
    assert rule.requires, "a rule without Requires turns the prefilter off for the whole pack"
    assert rule.description and rule.runbook and rule.reference.startswith("https://")
    assert rule.mitre and rule.summary_attributes and rule.tags
    assert_tests_cover_the_clouds(rule)


def test_the_pack_keeps_a_prefilter_and_every_test_passes() -> None:
    assert RuleSet(PACK).prefilter is not None
    failures = [f"{r.rule_id}: {r.name}: {r.detail}" for r in run_rule_tests(PACK) if not r.passed]
    assert failures == []


def test_rule_ids_are_unique_and_namespaced() -> None:
    ids = [r.rule_id for r in PACK]
    assert len(ids) == len(set(ids)) and all(i.startswith("Kubernetes.") for i in ids)
