"""A byte-level prefilter derived from the rules' `Requires`, so that records no enabled rule can
match are never fully decoded.

Exactness argument: every value a rule requires (e.g. resource `daemonsets`, verb `create`) is
copied by each decoder from a JSON string of the record (objectRef.resource, verb, GKE methodName),
so the record's text contains it literally unless the JSON spells it with a \\u escape. A record
therefore may match only if, for some rule, every required field has one of its values in the
text, or the text holds a backslash-u at all (then we decode and let the rule decide).
tests/rules/test_prefilter.py checks both paths give identical findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubetrail.rules.loader import Rule

_ESCAPE = b"\\u"


@dataclass(frozen=True, slots=True)
class Prefilter:
    """`alternatives`: one entry per rule, each a tuple of fields, each field a tuple of needles
    (any one suffices); all fields of one rule must be present."""

    alternatives: tuple[tuple[tuple[bytes, ...], ...], ...]

    @classmethod
    def from_rules(cls, rules: Sequence[Rule]) -> Prefilter | None:
        """None (decode everything) when any rule has no Requires or there are no rules."""
        if not rules or any(not r.requires for r in rules):
            return None
        alts = []
        for rule in rules:
            fields = sorted(
                (tuple(sorted(v.encode() for v in values)) for values in rule.requires.values()),
                key=lambda needles: -min(map(len, needles)),  # most selective (longest) first
            )
            alts.append(tuple(fields))
        return cls(tuple(alts))

    def may_match(self, text: bytes) -> bool:
        """False only when no rule can match a record whose JSON text is `text`."""
        if _ESCAPE in text:
            return True
        for fields in self.alternatives:
            if all(any(n in text for n in needles) for needles in fields):
                return True
        return False

    def may_match_str(self, text: str) -> bool:
        """The same test for a record held as str (e.g. an AKS properties.log string)."""
        return self.may_match(text.encode("utf-8", "surrogatepass"))
