"""A Panther rule's Tests, as Panther's own tool runs them: each Log, unchanged, is the event
(with the data model of its p_log_type, else of the rule's single log type); the test's Mocks
replace, for that test only, the named objects of the rule's module (a helper it imported, a
constant) by a mock returning `returnValue`. The test passes when rule() equals ExpectedResult
and, for a match, title/dedup/severity/alert_context/description/reference/runbook/destinations
all run without raising.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any
from unittest import mock

from kubetrail.panther.rules import PantherCall, viewer_for

if TYPE_CHECKING:
    from kubetrail.rules.loader import Rule, RuleTest
    from kubetrail.rules.testing import TestResult

OPTIONAL = ("title", "dedup", "severity", "alert_context", "description", "reference", "runbook",
            "destinations")


def is_panther(rule: Rule) -> bool:
    """A rule loaded from a Panther rule file."""
    return isinstance(rule.rule, PantherCall)


def run_panther_tests(rule: Rule) -> Iterator[TestResult]:
    """One result per test of a Panther rule."""
    from kubetrail.rules.testing import TestResult

    call = rule.rule
    assert isinstance(call, PantherCall)
    viewer = viewer_for(call.root)
    single = next(iter(rule.log_types)) if len(rule.log_types) == 1 else None
    for test in rule.tests:
        view = viewer.view(test.log, single)
        with ExitStack() as stack:
            for name, value in test.mocks:
                stack.enter_context(mock.patch.object(
                    call.module, name, mock.MagicMock(return_value=value), create=True))
            problem = _run(call, test, view)
        yield TestResult(rule.rule_id, test.name, problem is None, problem or "")


def _run(call: PantherCall, test: RuleTest, view: Any) -> str | None:
    module = call.module
    try:
        matched = bool(module.rule(view))
    except Exception as exc:
        return f"rule() raised {exc!r}"
    if matched != test.expected:
        return f"expected {test.expected}, rule() returned {matched}"
    if not matched:
        return None
    errors = []
    for name in OPTIONAL:
        fn = getattr(module, name, None)
        if callable(fn):
            try:
                fn(view)
            except Exception as exc:
                errors.append(f"{name}() raised {exc!r}")
    return "; ".join(errors) or None
