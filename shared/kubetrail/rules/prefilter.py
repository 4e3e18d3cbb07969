"""A prefilter derived from the rules' `Requires`, so that records no enabled rule can match are
never fully decoded. Two tests, both exact (tests/rules/test_prefilter.py scans with and without
them and gets identical findings over the corpus, generated streams and crafted records):

* `may_match_event(text)` — for text that is one audit.k8s.io Event (an EKS line or CloudWatch
  message, an AKS `properties.log`): a light typed decode (rules/lightevent.py) of only the
  fields the rules' Requires name, with the normalizer's exact mapping. It is a real JSON parser,
  so escapes, duplicate keys and nulls mean what they mean to the full decoder; any error (bad
  JSON, a wrong type) answers "may match", so the full decoder reports it. `candidates` is the
  same test over a batch of light events (`light.decode_buffer` reads a block of JSON lines).
  The tests of rules/requirements.py run on it: `username: [non-system]` on the username,
  `request_object: [keys]` on the requestObject's JSON text (kept undecoded), which holds a key
  literally or behind an escape of one of its characters, the only two ways JSON spells it.
* `may_match(text)` — for any other record text: every value a rule requires is copied by the
  decoders from a JSON string of the record (objectRef.resource, verb, GKE methodName; the keys
  of `request_object`), so the text contains it literally unless the JSON spells one of its
  characters as a \\u escape. A record may match only if, for some rule, every required field has
  one of its values in the text, or the text holds an escape of a character those values contain
  (Go's `\\u0026` for `&` in every EKS query string hides no letter). Not literal text, so not
  tested here: `response_code` (GKE maps a gRPC code) and `username: [non-system]`; `source_ips:
  [public]` holds when some address-like run of the text is a public address (rules/network.py),
  escapes of address characters included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property, reduce
from itertools import product
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from kubetrail.record import field, record
from kubetrail.rules.lightfields import FIELDS as LIGHT_FIELDS
from kubetrail.rules.lightfields import PATHS
from kubetrail.rules.network import IP_CHARS, PublicSourceIPs, text_has_public_ip
from kubetrail.rules.requirements import BodyText, RequestKeys, request_body_text

if TYPE_CHECKING:
    from kubetrail.rules.blockscreen import BlockScreen
    from kubetrail.rules.lightevent import LightDecoder
    from kubetrail.rules.loader import Rule


# Fields in the order they are tested for a block: the most selective first; of the tests, the
# public-address one first (it screens a whole block in C), the Python ones after it.
_SELECTIVITY = ("resource", "subresource", "namespace", "api_group", "response_code", "verb",
                "source_ips", "username", "request_object")
_RESOURCE = attrgetter(PATHS["resource"])
_RESOURCE_VERB = attrgetter(PATHS["resource"], PATHS["verb"])
# Requirements whose values are not literal text of a record: not tested by `may_match` alone.
_NOT_LITERAL = frozenset({"response_code", "source_ips"})

# One rule's requirements beyond the fields a group looks up: (light event getter, value) tests
# that must all hold.
_Check = tuple[tuple[Callable[[Any], Any], Any], ...]
_Predicate = Callable[[Any], bool]
# A group of rules requiring values of the same listed fields: the getter of those fields (a
# value, or a tuple of values), the combinations that are enough on their own, and the
# combinations for which some rule has more to check (the test of its checks, on a light event).
_Group = tuple[Callable[[Any], Any], frozenset[Any], dict[Any, _Predicate]]


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



Groups = dict[tuple[str, ...], tuple[set[Any], dict[Any, list[_Check]]]]


def grouped(requirements: Sequence[Mapping[str, Any]], light: Callable[[Any], Any]
            ) -> tuple[Groups, list[_Check]]:
    """The rules' requirements as lookups: per tuple of the listed fields a rule requires (its
    `names`), the combinations of their values that are enough (`sure`) and those that leave
    tests on other fields (`checked`: combination -> per rule, its tests); and, per rule that
    requires no listed field, its tests (`others`; empty for a rule every event may match).
    `light(value)` turns a required value into the one tested on a light event."""
    getters: dict[str, Callable[[Any], Any]] = {f: attrgetter(PATHS[f]) for f in _SELECTIVITY}
    getters["request_object"] = request_body_text  # (a light event may not have it)
    groups: Groups = {}
    others: list[_Check] = []
    for req in requirements:
        names = tuple(f for f in _SELECTIVITY if isinstance(req.get(f), frozenset))
        check = tuple((getters[f], light(req[f])) for f in _SELECTIVITY
                      if f in req and f not in names)
        if not names:
            others.append(check)
            continue
        sure, checked = groups.setdefault(names, (set(), {}))
        for combo in product(*(req[f] for f in names)):
            key = combo[0] if len(names) == 1 else combo
            if not check:
                sure.add(key)
            else:
                checked.setdefault(key, []).append(check)
    return groups, others


@record(frozen=True)
class Prefilter:
    """`requirements`: one mapping per rule, field → allowed values (all fields must hold).
    `alternatives` is the same as byte needles, most selective field first."""

    requirements: tuple[Mapping[str, Any], ...]
    alternatives: tuple[tuple[tuple[bytes, ...], ...], ...] = field(init=False)
    # Per rule: does it require a public source address (tested on bytes by text_has_public_ip)?
    _public: tuple[bool, ...] = field(init=False, repr=False, compare=False)
    _escapes: re.Pattern[bytes] = field(init=False, repr=False, compare=False)
    # Rules grouped by the listed fields they require (see _Group), for `event_may_match`
    # (a block of events is screened by rules/blockscreen.py, which groups them the same way).
    _resource_groups: tuple[_Group, ...] = field(init=False, repr=False, compare=False)
    _other_groups: tuple[_Group, ...] = field(init=False, repr=False, compare=False)
    # The rules requiring no listed field: per rule, the getter and value of its most selective
    # test, and all its tests.
    _getters: tuple[tuple[Callable[[Any], Any], Any, _Predicate], ...] \
        = field(init=False, repr=False, compare=False)
    # The test of a whole batch of light events (`candidates`), built on first use.
    _block: BlockScreen | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        alts = []
        for req in self.requirements:
            literal = [tuple(sorted(v.encode() for v in values)) for f, values in req.items()
                       if isinstance(values, frozenset) and f not in _NOT_LITERAL]
            literal += [values.needles for values in req.values()
                        if isinstance(values, RequestKeys)]
            alts.append(tuple(sorted(literal, key=lambda needles: -min(map(len, needles)))))
        object.__setattr__(self, "alternatives", tuple(alts))
        public = tuple(isinstance(req.get("source_ips"), PublicSourceIPs)
                       for req in self.requirements)
        object.__setattr__(self, "_public", public)
        needles = {n for alt in alts for f in alt for n in f}
        object.__setattr__(self, "_escapes",
                           _escape_pattern(needles, IP_CHARS if any(public) else ""))
        groups, others = grouped(self.requirements, self.light_value)
        made = {names: _group(names, sure, checked) for names, (sure, checked) in groups.items()}
        object.__setattr__(self, "_resource_groups", tuple(
            group for names, group in made.items() if "resource" in names))
        object.__setattr__(self, "_other_groups", tuple(
            group for names, group in made.items() if "resource" not in names))
        object.__setattr__(self, "_getters", tuple(
            (*check[0], _predicate((check,))) for check in others))

    def light_value(self, value: Any) -> Any:
        """A required value as a light event is tested against it: request-body keys become
        the test of the body's JSON text (requirements.BodyText, with this prefilter's escape
        guard); any other value is itself."""
        return BodyText(value.needles, self._escapes) if isinstance(value, RequestKeys) \
            else value

    @cached_property
    def light(self) -> LightDecoder:
        """The light decoder of the fields the rules require, made on first use: it imports
        msgspec, which the first record needs and an empty input never does."""
        from kubetrail.rules.lightevent import LightDecoder

        return LightDecoder(f for req in self.requirements for f in req if f in LIGHT_FIELDS)

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
        if ev.p_log_type is not self.light.unset or ev.kind != "Event":
            return True  # a Panther log (p_log_type decides its format), or no audit Event
        for get, sure, checked in (*self._resource_groups, *self._other_groups):
            value = get(ev)
            if value in sure:
                return True
            test = checked.get(value)
            if test is not None and test(ev):
                return True
        return any(test(ev) for _, _, test in self._getters)

    def candidates(self, events: list[Any]) -> list[int]:
        """Indexes of the audit Events (kind Event, no p_log_type: the caller checks) that some
        rule may match: `event_may_match` of each, in a few C-level passes over the whole batch
        (rules/blockscreen.py, built on first use)."""
        screen = self._block
        if screen is None:
            from kubetrail.rules.blockscreen import BlockScreen

            screen = BlockScreen(self.requirements, self.light_value)
            object.__setattr__(self, "_block", screen)
        return screen.candidates(events)


def _project(names: tuple[str, ...], combo: Any, fields: tuple[str, ...]) -> Any:
    """The values of `fields` in a group's combination (a value for one field, else a tuple)."""
    values = (combo,) if len(names) == 1 else combo
    picked = tuple(values[names.index(f)] for f in fields)
    return picked[0] if len(fields) == 1 else picked


def _predicate(checks: tuple[_Check, ...]) -> _Predicate:
    """The test that every test of some check holds on a light event (a plain function for the
    usual single test)."""
    if len(checks) == 1 and len(checks[0]) == 1:
        ((get, value),) = checks[0]
        contains = value.__contains__

        def one(ev: Any) -> bool:
            return bool(contains(get(ev)))
        return one

    def some(ev: Any) -> bool:
        return any(all(get(ev) in value for get, value in check) for check in checks)
    return some


def _group(fields: tuple[str, ...], sure: set[Any], checked: dict[Any, list[_Check]]) -> _Group:
    """The getter of a group (attrgetter of one path answers the value itself, of several a
    tuple) and its lookups."""
    get = attrgetter(PATHS[fields[0]]) if len(fields) == 1 \
        else attrgetter(*(PATHS[f] for f in fields))
    return get, frozenset(sure), {k: _predicate(_merged(v)) for k, v in checked.items()
                                  if k not in sure}


def _merged(checks: list[_Check]) -> tuple[_Check, ...]:
    """The checks of one combination; those that only test request-body keys merged into one
    (the body then needs to spell a key of any of them), first."""
    def body_only(check: _Check) -> bool:
        return len(check) == 1 and isinstance(check[0][1], BodyText)

    bodies = [check[0] for check in checks if body_only(check)]
    rest = tuple(dict.fromkeys(check for check in checks if not body_only(check)))
    if not bodies:
        return rest
    merged = reduce(BodyText.merged, (value for _, value in bodies))
    return ((bodies[0][0], merged),), *rest
