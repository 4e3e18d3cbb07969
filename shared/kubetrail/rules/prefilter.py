"""A prefilter derived from the rules' `Requires`, so that records no enabled rule can match are
never fully decoded.

Two tests, both exact (tests/rules/test_prefilter.py scans with and without them and gets
identical findings over the corpus, generated streams and records crafted to hide values):

* `may_match_event(text)` — for text that is one audit.k8s.io Event (an EKS line or CloudWatch
  message, an AKS `properties.log`): a light typed decode of only the fields Requires can name
  (verb, objectRef.resource/subresource/namespace/apiGroup), with the normalizer's exact mapping.
  It is a real JSON parser, so escapes, duplicate keys and nulls mean what they mean to the full
  decoder; any error (bad JSON, a wrong type) answers "may match", so the full decoder reports it.
* `may_match(text)` — for any other record text: every value a rule requires is copied by the
  decoders from a JSON string of the record (objectRef.resource, verb, GKE methodName), so the
  text contains it literally unless the JSON spells one of its characters as a \\u escape. A
  record may match only if, for some rule, every required field has one of its values in the
  text, or the text holds an escape of a character those values contain (Go's `\\u0026` for `&`
  in every EKS query string hides no letter, so it does not defeat the test).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, count
from operator import and_, attrgetter, or_
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from kubetrail.rules.loader import Rule


class _ObjectRef(msgspec.Struct, gc=False):
    resource: str | None = None
    subresource: str | None = None
    namespace: str | None = None
    apiGroup: str | None = None


class LightEvent(msgspec.Struct, gc=False):
    """The fields of an audit Event that Requires can name, decoded without the rest. An absent
    objectRef reads as an empty one (so `objectRef.resource` is None, as the normalizer has it);
    a null one is a decode error here and goes to the full decoder."""

    kind: Any = None
    verb: str | None = None
    objectRef: _ObjectRef = msgspec.field(default_factory=_ObjectRef)  # the Event's key names
    p_log_type: Any = msgspec.UNSET  # present at all (even null) makes it a Panther log


decode_light_event = msgspec.json.Decoder(LightEvent).decode
LightDecodeError = msgspec.DecodeError
UNSET = msgspec.UNSET
# Where each Requires field lives in a LightEvent.
_PATHS = {"verb": "verb", "resource": "objectRef.resource",
          "subresource": "objectRef.subresource", "namespace": "objectRef.namespace",
          "api_group": "objectRef.apiGroup"}


def _escape_pattern(needles: set[bytes]) -> re.Pattern[bytes]:
    """A regex for the JSON escapes that could spell a character of any needle."""
    chars = {c for n in needles for c in n.decode("utf-8")}
    if any(ord(c) > 0x7F for c in chars):
        return re.compile(rb"\\u")  # non-ASCII needles: any escape may matter
    codes = sorted({f"{ord(c):02x}" for c in chars})
    alternatives = "|".join("".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in code)
                            for code in codes)
    return re.compile(rb"\\u00(?:" + alternatives.encode() + rb")")


@dataclass(frozen=True)
class Prefilter:
    """`requirements`: one mapping per rule, field → allowed values (all fields must hold).
    `alternatives` is the same as byte needles, most selective field first."""

    requirements: tuple[Mapping[str, frozenset[str]], ...]
    alternatives: tuple[tuple[tuple[bytes, ...], ...], ...] = field(init=False)
    _escapes: re.Pattern[bytes] = field(init=False, repr=False, compare=False)
    _getters: tuple[tuple[tuple[Callable[[LightEvent], Any], Callable[[Any], bool]], ...], ...] \
        = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        alts = []
        for req in self.requirements:
            fields = sorted(
                (tuple(sorted(v.encode() for v in values)) for values in req.values()),
                key=lambda needles: -min(map(len, needles)),
            )
            alts.append(tuple(fields))
        object.__setattr__(self, "alternatives", tuple(alts))
        needles = {n for alt in alts for f in alt for n in f}
        object.__setattr__(self, "_escapes", _escape_pattern(needles))
        object.__setattr__(self, "_getters", tuple(
            tuple((attrgetter(_PATHS[f]), allowed.__contains__) for f, allowed in req.items())
            for req in self.requirements))

    @classmethod
    def from_rules(cls, rules: Sequence[Rule]) -> Prefilter | None:
        """None (decode everything) when any rule has no Requires or there are no rules."""
        if not rules or any(not r.requires for r in rules):
            return None
        return cls(tuple(r.requires for r in rules))

    def may_match(self, text: bytes) -> bool:
        """False only when no rule can match a record whose JSON text is `text`."""
        for fields in self.alternatives:
            if all(any(n in text for n in needles) for needles in fields):
                return True
        return self._escapes.search(text) is not None

    def may_match_event(self, text: bytes | str) -> bool:
        """False only when no rule can match the audit Event whose JSON text is `text`."""
        try:
            ev = decode_light_event(text)
        except (msgspec.DecodeError, UnicodeEncodeError):
            return True
        return self.event_may_match(ev)

    def event_may_match(self, ev: LightEvent) -> bool:
        """`may_match_event` after the light decode."""
        if ev.p_log_type is not msgspec.UNSET or ev.kind != "Event":
            return True  # a Panther log (p_log_type decides its format), or no audit Event
        return any(all(allowed(get(ev)) for get, allowed in fields) for fields in self._getters)

    def candidates(self, events: list[LightEvent]) -> list[int]:
        """Indexes of the audit Events (kind Event, no p_log_type: the caller checks) that some
        rule may match, computed in C-level passes over the batch."""
        mask: Iterator[Any] | None = None
        for fields in self._getters:
            rule_mask: Iterator[Any] | None = None
            for get, allowed in fields:
                m = map(allowed, map(get, events))
                rule_mask = m if rule_mask is None else map(and_, rule_mask, m)
            if rule_mask is not None:
                mask = rule_mask if mask is None else map(or_, mask, rule_mask)
        return [] if mask is None else list(compress(count(), mask))
