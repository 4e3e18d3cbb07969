"""A prefilter derived from the rules' `Requires`, so that records no enabled rule can match are
never fully decoded.

Two tests, both exact (tests/rules/test_prefilter.py scans with and without them and gets
identical findings over the corpus, generated streams and records crafted to hide values):

* `may_match_event(text)` — for text that is one audit.k8s.io Event (an EKS line or CloudWatch
  message, an AKS `properties.log`): a light typed decode (rules/lightevent.py) of only the
  fields the rules' Requires name, with the normalizer's exact mapping. It is a real JSON parser,
  so escapes, duplicate keys and nulls mean what they mean to the full decoder; any error (bad
  JSON, a wrong type) answers "may match", so the full decoder reports it. `candidates` is the
  same test over a batch of light events (`light.decode_buffer` reads a block of JSON lines).
* `may_match(text)` — for any other record text: every value a rule requires is copied by the
  decoders from a JSON string of the record (objectRef.resource, verb, GKE methodName), so the
  text contains it literally unless the JSON spells one of its characters as a \\u escape. A
  record may match only if, for some rule, every required field has one of its values in the
  text, or the text holds an escape of a character those values contain (Go's `\\u0026` for `&`
  in every EKS query string hides no letter, so it does not defeat the test). Two requirements
  are not literal text: `response_code` (GKE maps a gRPC code) is not tested on bytes, and
  `source_ips: [public]` holds when some address-like run of the text is a public address
  (rules/network.py), escapes of address characters included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, count, product
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from kubetrail.rules.lightevent import PATHS, UNSET, LightDecoder
from kubetrail.rules.network import IP_CHARS, PublicSourceIPs, text_has_public_ip

if TYPE_CHECKING:
    from kubetrail.rules.loader import Rule


# Fields in the order they are tested for a block: the most selective first, the public-address
# test (which parses addresses) last.
_SELECTIVITY = ("resource", "subresource", "namespace", "api_group", "response_code", "username",
                "verb", "source_ips")
_RESOURCE = attrgetter(PATHS["resource"])
# Requirements whose values are not literal text of a record: not tested by `may_match` alone.
_NOT_LITERAL = frozenset({"response_code", "source_ips"})


# Characters whose escape in a record's text could spell an escape one level down, in a JSON
# string embedded in a JSON string (AKS properties.log, a CloudWatch message): `\u005c` is a
# backslash, `\u0075` a "u", `\u0030`-`\u0039` and the hex letters the code's digits.
_ESCAPE_BUILDERS = "\\u0123456789abcdefABCDEF"
_SHORT_ESCAPES = {'"': '"', "/": "/", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}


def _escape_pattern(needles: set[bytes], extra: str = "") -> re.Pattern[bytes]:
    """A regex for the JSON escapes that could spell a character of any needle (or of `extra`),
    at any level of JSON embedded in JSON strings."""
    chars = {c for n in needles for c in n.decode("utf-8")} | set(extra)
    if any(ord(c) > 0x7F for c in chars):
        return re.compile(rb"\\u")  # non-ASCII needles: any escape may matter
    codes = sorted({f"{ord(c):02x}" for c in chars | set(_ESCAPE_BUILDERS)})
    alternatives = "|".join("".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in code)
                            for code in codes)
    short = "".join(re.escape(_SHORT_ESCAPES[c]) for c in sorted(chars) if c in _SHORT_ESCAPES)
    pattern = rb"\\u00(?:" + alternatives.encode() + rb")"
    if short:
        pattern += rb"|\\[" + short.encode() + rb"]"
    return re.compile(pattern)


@dataclass(frozen=True)
class Prefilter:
    """`requirements`: one mapping per rule, field → allowed values (all fields must hold).
    `alternatives` is the same as byte needles, most selective field first."""

    requirements: tuple[Mapping[str, Any], ...]
    alternatives: tuple[tuple[tuple[bytes, ...], ...], ...] = field(init=False)
    # Per rule: does it require a public source address (tested on bytes by text_has_public_ip)?
    _public: tuple[bool, ...] = field(init=False, repr=False, compare=False)
    light: LightDecoder = field(init=False, repr=False, compare=False)
    _escapes: re.Pattern[bytes] = field(init=False, repr=False, compare=False)
    # Rules grouped by the fields they require, when every required value can be listed: per
    # group, one getter of those fields (a tuple) and the set of allowed value tuples (the union
    # over the group's rules of the products of their allowed values). A whole pack thus costs
    # one C-level pass per group, not per rule.
    _groups: tuple[tuple[Callable[[Any], Any], frozenset[Any]], ...] \
        = field(init=False, repr=False, compare=False)
    _resource_groups: tuple[tuple[Callable[[Any], Any], frozenset[Any]], ...] \
        = field(init=False, repr=False, compare=False)
    _other_groups: tuple[tuple[Callable[[Any], Any], frozenset[Any]], ...] \
        = field(init=False, repr=False, compare=False)
    _resources: frozenset[str] = field(init=False, repr=False, compare=False)
    # The other rules (a requirement that is a test, e.g. a public source address): per rule,
    # (light event field getter, allowed values) in _SELECTIVITY order.
    _getters: tuple[tuple[tuple[Callable[[Any], Any], Any], ...], ...] \
        = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        alts = []
        for req in self.requirements:
            fields = sorted(
                (tuple(sorted(v.encode() for v in values))
                 for f, values in req.items() if f not in _NOT_LITERAL),
                key=lambda needles: -min(map(len, needles)),
            )
            alts.append(tuple(fields))
        object.__setattr__(self, "alternatives", tuple(alts))
        public = tuple(isinstance(req.get("source_ips"), PublicSourceIPs)
                       for req in self.requirements)
        object.__setattr__(self, "_public", public)
        needles = {n for alt in alts for f in alt for n in f}
        object.__setattr__(self, "_escapes",
                           _escape_pattern(needles, IP_CHARS if any(public) else ""))
        object.__setattr__(self, "light", LightDecoder(f for req in self.requirements for f in req))
        groups: dict[tuple[str, ...], set[tuple[Any, ...]]] = {}
        getters = {f: attrgetter(PATHS[f]) for f in _SELECTIVITY}
        others = []
        for req in self.requirements:
            names = tuple(f for f in _SELECTIVITY if f in req)
            if all(isinstance(req[f], frozenset) for f in names):
                groups.setdefault(names, set()).update(product(*(req[f] for f in names)))
            else:
                others.append(tuple((getters[f], req[f]) for f in names))
        object.__setattr__(self, "_groups", tuple(
            _group(names, allowed) for names, allowed in groups.items()))
        # The groups requiring a resource, and every resource they allow: a batch is first
        # screened on that one column, and only its events with such a resource are looked up.
        object.__setattr__(self, "_resource_groups", tuple(
            _group(names, allowed) for names, allowed in groups.items() if "resource" in names))
        object.__setattr__(self, "_other_groups", tuple(
            _group(names, allowed) for names, allowed in groups.items()
            if "resource" not in names))
        object.__setattr__(self, "_resources", frozenset(
            combo[names.index("resource")] for names, allowed in groups.items()
            if "resource" in names for combo in allowed))
        object.__setattr__(self, "_getters", tuple(others))

    @classmethod
    def from_rules(cls, rules: Sequence[Rule]) -> Prefilter | None:
        """None (decode everything) when any rule has no Requires or there are no rules."""
        if not rules or any(not r.requires for r in rules):
            return None
        return cls(tuple(r.requires for r in rules))

    def may_match(self, text: bytes) -> bool:
        """False only when no rule can match a record whose JSON text is `text`."""
        public_ip: bool | None = None  # computed once, when a rule needs it
        for fields, public in zip(self.alternatives, self._public, strict=True):
            if all(any(n in text for n in needles) for needles in fields):
                if not public:
                    return True
                if public_ip is None:
                    public_ip = text_has_public_ip(text)
                if public_ip:
                    return True
        return self._escapes.search(text) is not None

    def may_match_event(self, text: bytes | str) -> bool:
        """False only when no rule can match the audit Event whose JSON text is `text`."""
        try:
            ev = self.light.decode_line(text)
        except Exception:  # a decode error, RecursionError on deep nesting, ...
            return True  # the full decoder reads it and reports what is wrong
        return self.event_may_match(ev)

    def event_may_match(self, ev: Any) -> bool:
        """`may_match_event` after the light decode (`light.decode_line`)."""
        if ev.p_log_type is not UNSET or ev.kind != "Event":
            return True  # a Panther log (p_log_type decides its format), or no audit Event
        return any(get(ev) in allowed for get, allowed in self._groups) or any(
            all(get(ev) in ok for get, ok in fields) for fields in self._getters)

    def candidates(self, events: list[Any]) -> list[int]:
        """Indexes of the audit Events (kind Event, no p_log_type: the caller checks) that some
        rule may match: per group of rules requiring the same fields, one C-level pass reads
        those fields of the whole batch as tuples and looks them up in the allowed set; for the
        other rules, one pass reads each rule's most selective field (once per field), and only
        the events whose value is allowed are looked at in Python."""
        found: set[int] = set()
        if self._resource_groups:
            resources = map(_RESOURCE, events)
            picked = list(compress(count(), map(self._resources.__contains__, resources)))
            if picked:
                some = list(map(events.__getitem__, picked))
                for get, allowed in self._resource_groups:
                    found.update(compress(picked, map(allowed.__contains__, map(get, some))))
        for get, allowed in self._other_groups:
            found.update(compress(count(), map(allowed.__contains__, map(get, events))))
        columns: dict[Callable[[Any], Any], list[Any]] = {}
        for (first, allowed), *rest in self._getters:
            values = columns.get(first)
            if values is None:
                values = columns[first] = list(map(first, events))
            if allowed.isdisjoint(values):
                continue  # the usual case: one pass, no per-event Python
            for i in compress(count(), map(allowed.__contains__, values)):
                ev = events[i]
                if all(get(ev) in ok for get, ok in rest):
                    found.add(i)
        return sorted(found)


def _group(fields: tuple[str, ...], allowed: set[tuple[str, ...]]
           ) -> tuple[Callable[[Any], Any], frozenset[Any]]:
    """The getter and allowed values of a group: plain values for one field (attrgetter of one
    path answers the value itself), tuples for several."""
    if len(fields) == 1:
        return attrgetter(PATHS[fields[0]]), frozenset(v for (v,) in allowed)
    return attrgetter(*(PATHS[f] for f in fields)), frozenset(allowed)
