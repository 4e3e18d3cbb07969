"""A match's title, dedup key, severity, context and overrides, whatever a rule's optional
functions answer or raise: each absent or failing function falls back to its default, the last
failure is reported, and the match is always made (checked against the rules written out)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import pytest

from kubetrail import record
from kubetrail.rules import RuleSet, load_rules
from kubetrail.rules.engine import Match, dedup_key, new_match
from kubetrail.rules.loader import SEVERITIES, Rule
from tests.factories import make_event

EVENT = make_event(verb="create", resource="daemonsets", username="alice")
BASE = next(r for r in load_rules() if r.rule_id == "Kubernetes.DaemonSet.Created")


class Shown:
    def __str__(self) -> str:
        return "shown"


def boom(_: Any) -> Any:
    raise LookupError("no")


def answers(*values: Any) -> list[Callable[[Any], Any] | None]:
    return [None, boom, *((lambda _e, v=v: v) for v in values)]


TITLES = answers("a title", "", None, 7, Shown(), "tab\there")
DEDUPS = answers("key", "", None, 0, 12, Shown())
SEVERITIES_ANSWERED = answers("high", "CRITICAL", "bogus", "", None, 3)
CONTEXTS = answers({"a": 1}, MappingProxyType({"b": 2}), [1, 2], None, "text")
ANNOTATIONS = answers({"runbook": "r"}, MappingProxyType({"summary": {}}), ["x"], None)


def expected(rule: Rule) -> tuple[tuple[str, str, str, Any, Any], str | None]:
    """The match's fields and the failing function reported, by the rules of the engine."""
    failed: list[str] = []

    def answer(function: str, call: Callable[[Any], Any] | None, default: Any) -> Any:
        if call is None:
            return default
        try:
            return call(EVENT)
        except Exception:
            failed.append(function)
            return default

    from kubetrail.rules.engine import _printable

    title = answer("title", rule.title, rule.display_name)
    title = _printable(str(title or rule.display_name), 1000)
    dedup = str(answer("dedup", rule.dedup, title) or title)
    severity = str(answer("severity", rule.dynamic_severity, "DEFAULT") or "DEFAULT").upper()
    severity = severity if severity in SEVERITIES else rule.severity
    context = answer("alert_context", rule.alert_context, {})
    context = context if isinstance(context, Mapping) else {"value": context}
    overrides = answer("annotate", rule.annotate, {})
    overrides = overrides if isinstance(overrides, Mapping) else {}
    return ((title, dedup_key(rule.rule_id, dedup), severity, context, overrides),
            failed[-1] if failed else None)


CASES = list(itertools.islice(itertools.product(TITLES, DEDUPS, SEVERITIES_ANSWERED, CONTEXTS,
                                                ANNOTATIONS), 0, None, 41))


@pytest.mark.parametrize("functions", CASES)
def test_every_answer_of_the_optional_functions_resolves_as_the_rules_say(
        functions: tuple[Any, ...]) -> None:
    title, dedup, severity, context, annotate = functions
    rule = record.replace(BASE, rule=lambda e: True, title=title, dedup=dedup,
                          dynamic_severity=severity, alert_context=context, annotate=annotate)
    matches, errors = RuleSet([rule]).evaluate(EVENT)
    (want, failed) = expected(rule)
    assert len(matches) == 1
    m = matches[0]
    assert (m.title, m.dedup_key, m.severity, m.alert_context, m.overrides) == want
    assert [e.function for e in errors] == ([failed] if failed else [])


def test_new_match_is_the_match_the_record_makes() -> None:
    args = (BASE, EVENT, "t", "k", "HIGH", {"a": 1}, {"runbook": "r"})
    made, fast = Match(*args), new_match(*args)
    assert type(fast) is Match and fast == made and repr(fast) == repr(made)
    assert [getattr(fast, f.name) for f in record.fields(Match)] == list(args)
    with pytest.raises(record.FrozenInstanceError):
        fast.title = "x"  # type: ignore[misc]
