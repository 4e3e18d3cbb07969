"""Run every rule's `Tests` (Panther's format): each Log is normalized by the same decoders as
live records, then the rule is evaluated exactly as the pipeline would."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from kubetrail.errors import Origin
from kubetrail.record import record
from kubetrail.rules.engine import RuleSet
from kubetrail.rules.loader import Rule
from kubetrail.sources import decode_document
from kubetrail.sources.base import Decoded


@record(frozen=True, slots=True)
class TestResult:
    """One rule test's outcome; `detail` explains a failure."""

    rule_id: str
    name: str
    passed: bool
    detail: str = ""


def run_rule_tests(rules: Sequence[Rule]) -> Iterator[TestResult]:
    """Yield one result per test of every given rule (enabled or not). A Panther rule's tests
    run as Panther's tool runs them (kubetrail/panther/testing.py)."""
    from kubetrail.panther.testing import is_panther, run_panther_tests

    for rule in rules:
        if is_panther(rule):
            yield from run_panther_tests(rule)
            continue
        single = RuleSet([rule])
        for test in rule.tests:
            origin = Origin(str(rule.source), test.name)
            outcomes = list(decode_document(test.log, origin))
            if len(outcomes) != 1 or not isinstance(outcomes[0], Decoded):
                got = ", ".join(type(o).__name__ + (f"({getattr(o, 'reason', '')})")
                                for o in outcomes)
                yield TestResult(rule.rule_id, test.name, False,
                                 f"log did not decode to one event: {got or 'nothing'}")
                continue
            matches, errors = single.evaluate(outcomes[0].event, origin)
            if errors:
                yield TestResult(rule.rule_id, test.name, False,
                                 "; ".join(f"{e.function}() raised {e.message}" for e in errors))
                continue
            matched = bool(matches)
            detail = "" if matched == test.expected else (
                f"expected {test.expected}, rule returned {matched}")
            yield TestResult(rule.rule_id, test.name, matched == test.expected, detail)
