"""Which rules an event's log type and `Requires` let through, in one dict lookup per event.

Every field some rule requires by a list of values (a frozenset) is part of a dispatch key,
with the event's log type: `attrgetter(log_type, api_group, namespace, ...)(event)`. The first
event with a key works out, rule by rule, which rules its values admit (the rule's log types,
and each listed requirement: `value in values`); later events with an equal key reuse that
plan. Equal keys hash and compare alike, so a frozenset answers the same membership for them: the
plan is exactly what the per-rule checks would answer. What a plan cannot decide from the key
(a test rather than a list: `source_ips: [public]`, `username: [non-system]`,
`request_object: [keys]`, kubetrail.rules.requirements) stays a residual check, each distinct
one answered once per event; a few checks' answers pick a rule tuple, more are combined per
rule. A
Panther rule's side-file Requires hold only on the log types they cover
(`requires_log_types`): on the others the plan admits the rule without checks, as before.

A plan depends only on which listed value each field holds (or none): keys differing in
unlisted values (usernames, namespaces no rule names) share one plan, made once. Keys are kept
for at most MAX_PLANS (then forgotten all at once): they hold usernames when some rule requires
one, and an attacker choosing usernames must not grow memory. A key that cannot be hashed (never
made by the decoders) takes the per-rule path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubetrail.events import AuditEvent
    from kubetrail.rules.loader import Rule

MAX_PLANS = 4096
MAX_COMBINED = 4  # up to this many distinct checks in a plan, their answers pick a rule tuple
Residual = tuple[tuple[str, Any], ...]
# A plan: its distinct residual checks (field, value); for each combination of their answers
# the rules admitted, in rule order (at most MAX_COMBINED checks, else None); and the admitted
# rules with the indexes of the checks each needs.
Plan = tuple[Residual, dict[tuple[bool, ...], tuple["Rule", ...]] | None,
             tuple[tuple["Rule", tuple[int, ...]], ...]]


def requires_ok(rule: Rule, event: AuditEvent) -> bool:
    """Every field the rule requires holds one of its values on the event (always true for a
    log type the rule's Requires do not cover: a Panther rule's side-file Requires, see
    kubetrail.panther.requires)."""
    if rule.requires_log_types is not None and event.log_type not in rule.requires_log_types:
        return True
    return all(getattr(event, f) in values for f, values in rule.requires.items())


class RequiresIndex:
    """The rules of a rule list whose Requires (`fitting`), and log types too (`candidates`),
    fit an event."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = tuple(rules)
        listed = sorted({f for r in self._rules for f, v in r.requires.items()
                         if isinstance(v, frozenset)} - {"log_type"})
        self._fields: tuple[str, ...] = ("log_type", *listed)
        self._key: Callable[[Any], Any] = (
            attrgetter(*self._fields) if listed else lambda e: (e.log_type,))
        # Per listed field, every value some rule lists for it.
        self._known = tuple(
            frozenset().union(*(r.requires[f] for r in self._rules
                                if isinstance(r.requires.get(f), frozenset)))
            for f in listed)
        self._plans: dict[Any, Plan] = {}
        self._shapes: dict[tuple[Any, ...], Plan] = {}  # at most the product of the sets

    def candidates(self, event: AuditEvent) -> Sequence[Rule]:
        """The rules whose log types hold the event's and whose every Requires holds, in rule
        order (what the engine runs). The answer may be shared: do not modify it."""
        try:
            key = self._key(event)
            plan = self._plans.get(key)
        except (TypeError, AttributeError):  # an unhashable value: rule by rule
            return self._one_by_one(event)
        if plan is None:
            plan = self._plan(key)
        checks, variants, needs = plan
        answers = [getattr(event, f) in values for f, values in checks]  # each test once
        if variants is not None:
            return variants[tuple(answers)]
        picked = []
        for rule, needed in needs:
            for i in needed:
                if not answers[i]:
                    break
            else:
                picked.append(rule)
        return picked

    def _one_by_one(self, event: AuditEvent) -> list[Rule]:
        return [r for r in self._rules if event.log_type in r.log_types and requires_ok(r, event)]

    def fitting(self, event: AuditEvent) -> list[Rule]:
        """The rules whose every Requires field holds one of its values, in rule order (log
        types aside: `requires_ok` for each rule)."""
        return [r for r in self._rules if requires_ok(r, event)]

    def _plan(self, key: tuple[Any, ...]) -> Plan:
        """The plan of a key seen for the first time (or since the plans were forgotten)."""
        # The plan depends only on which listed value each field holds, or on none of them:
        # keys that differ only by unlisted values (most usernames, namespaces) share one plan.
        shape = (key[0], *(v if v in known else _UNLISTED
                           for v, known in zip(key[1:], self._known, strict=True)))
        plan = self._shapes.get(shape)
        if plan is None:
            plan = self._shapes[shape] = self._make(shape)
        if len(self._plans) >= MAX_PLANS:
            self._plans.clear()
        self._plans[key] = plan
        return plan

    def _make(self, shape: tuple[Any, ...]) -> Plan:
        values = dict(zip(self._fields, shape, strict=True))
        log_type = values["log_type"]
        admitted: list[tuple[Rule, Residual]] = []
        for rule in self._rules:
            if log_type not in rule.log_types:
                continue
            if rule.requires_log_types is not None and log_type not in rule.requires_log_types:
                admitted.append((rule, ()))
                continue
            residual = tuple((f, v) for f, v in rule.requires.items()
                             if not isinstance(v, frozenset))
            if all(values[f] in v for f, v in rule.requires.items() if isinstance(v, frozenset)):
                admitted.append((rule, residual))
        # The distinct residual checks (one object, such as PUBLIC_SOURCE_IPS, shared by several
        # rules is one check) and the ones each rule needs.
        checks: list[tuple[str, Any]] = []
        for _, residual in admitted:
            checks += [(f, v) for f, v in residual
                       if not any(f == g and v is w for g, w in checks)]
        needs = tuple((rule, tuple(next(i for i, (g, w) in enumerate(checks) if f == g and v is w)
                                   for f, v in residual)) for rule, residual in admitted)
        variants = None
        if len(checks) <= MAX_COMBINED:
            variants = {answers: tuple(rule for rule, needed in needs
                                       if all(answers[i] for i in needed))
                        for answers in product((False, True), repeat=len(checks))}
        return tuple(checks), variants, needs


# Stands for every value no rule lists for a field (equal only to itself).
_UNLISTED: Any = object()
