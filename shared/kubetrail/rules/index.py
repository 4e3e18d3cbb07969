"""Which rules an event's `Requires` let through, without testing every rule one by one.

Rules whose requirements all list their values (a frozenset per field) are grouped by the fields
they require; per group, one table maps each allowed combination of values (the product of each
rule's allowed values) to the rules that accept it. An event then costs one attribute read and one
dict lookup per group, however many rules the pack holds. A rule that also requires a test (a
value that is no list: `source_ips: [public]`, `username: [non-system]`, `request_object: [keys]`,
kubetrail.rules.requirements) is looked up by its listed fields and has its tests checked only
when the lookup finds it. Rules with no listed field, or none at all, are checked one by one.
The answer is exactly the rules for which every `getattr(event, field) in values` holds, in the
rules' own order: a dict lookup and a frozenset membership test hash and compare alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubetrail.events import AuditEvent
    from kubetrail.rules.loader import Rule


# The tests of a rule's Requires beyond its listed fields: (field, value) pairs.
_Tests = tuple[tuple[str, Any], ...]


def requires_ok(rule: Rule, event: AuditEvent) -> bool:
    """Every field the rule requires holds one of its values on the event (always true for a
    log type the rule's Requires do not cover: a Panther rule's side-file Requires, see
    kubetrail.panther.requires)."""
    if rule.requires_log_types is not None and event.log_type not in rule.requires_log_types:
        return True
    return all(getattr(event, f) in values for f, values in rule.requires.items())


class RequiresIndex:
    """The rules of a rule list whose Requires fit an event (`fitting`)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        tables: dict[tuple[str, ...], dict[Any, list[tuple[int, _Tests]]]] = {}
        self._others: list[tuple[int, Rule]] = []
        for i, rule in enumerate(rules):
            req = rule.requires
            names = tuple(sorted(f for f in req if isinstance(req[f], frozenset)))
            if not names or rule.requires_log_types is not None:
                self._others.append((i, rule))
                continue
            tests = tuple((f, v) for f, v in req.items() if not isinstance(v, frozenset))
            table = tables.setdefault(names, {})
            for combo in product(*(req[f] for f in names)):
                table.setdefault(combo[0] if len(names) == 1 else combo, []).append((i, tests))
        self._groups: list[tuple[Callable[[Any], Any], dict[Any, list[tuple[int, _Tests]]]]] = [
            (attrgetter(*names), table) for names, table in tables.items()]
        self._rules = list(rules)

    def fitting(self, event: AuditEvent) -> list[Rule]:
        """The rules whose every Requires field holds one of its values, in rule order."""
        picked: list[int] = []
        for get, table in self._groups:
            hit = table.get(get(event))
            if hit:
                picked.extend(i for i, tests in hit
                              if not tests or all(getattr(event, f) in v for f, v in tests))
        for i, rule in self._others:
            if requires_ok(rule, event):
                picked.append(i)
        if len(picked) > 1:
            picked.sort()
        rules = self._rules
        return [rules[i] for i in picked]
