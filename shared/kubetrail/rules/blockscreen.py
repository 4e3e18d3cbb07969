"""The prefilter's test of a whole block of light events (rules/lightevent.py: a read block's
lines, or a lenient batch's audit Events): which of them some rule may match, in a few C-level
passes over the block. It answers exactly what `Prefilter.event_may_match` answers for each
event (tests/rules/test_blockscreen.py), with less work per event:

* The rules that require a public source address (`source_ips: [public]`) are asked only about
  the events that have one. Audit logs rarely hold any (nodes, controllers and users inside the
  VPC connect from private addresses), and one pass over the text of all the block's addresses
  usually proves there is none: the rest of those rules' requirements (a 401/403 code, a system
  principal) are then not read at all. An event with a public address is looked up in the
  same way as any other, by those rules' other requirements.
* The other rules are grouped by the listed fields they require, as in the prefilter: the
  groups that require a resource are looked up only for the events whose resource (and verb)
  one of them allows; a group whose values are enough by themselves (the anonymous username)
  costs one pass that usually finds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import chain, compress, count, repeat
from operator import attrgetter, call
from typing import Any

from kubetrail.rules.lightfields import PATHS
from kubetrail.rules.network import _NEVER_PUBLIC, PUBLIC_SOURCE_IPS
from kubetrail.rules.prefilter import (
    _RESOURCE,
    _RESOURCE_VERB,
    _Group,
    _group,
    _Predicate,
    _predicate,
    _project,
    grouped,
)

_SOURCE_IPS = attrgetter(PATHS["source_ips"])
# The never-public prefixes that are the same text whatever follows them (172.16/12 and
# 100.64/10 need their second octet read): counted on the block's addresses, one C call each.
_PRIVATE_PREFIXES = tuple("\n" + p for p in _NEVER_PUBLIC if p.count(".") == 1 or p in (
    "169.254.", "192.168."))


class BlockScreen:
    """`candidates(events)`: as Prefilter.candidates (which builds one on first use)."""

    def __init__(self, requirements: Sequence[Mapping[str, Any]],
                 light: Callable[[Any], Any]) -> None:
        """`light`: Prefilter.light_value, a required value as a light event is tested."""
        self._everywhere = _Screen([req for req in requirements if "source_ips" not in req],
                                   light)
        public = [{f: v for f, v in req.items() if f != "source_ips"}
                  for req in requirements if "source_ips" in req]
        self._public = _Screen(public, light) if public else None

    def candidates(self, events: list[Any]) -> list[int]:
        """Indexes of the audit Events (kind Event, no p_log_type: the caller checks) that some
        rule may match."""
        found = self._everywhere.found(events)
        if self._public is not None:
            where = public_indexes(list(map(_SOURCE_IPS, events)))
            if where:
                some = list(map(events.__getitem__, where))
                found.update(map(where.__getitem__, self._public.found(some)))
        return sorted(found)


def public_indexes(addresses: list[Any]) -> list[int]:
    """Indexes of the `sourceIPs` (each a list of str, or None) that hold a public address
    (rules/network.py PublicSourceIPs). Usually one C-level pass: when every address of every
    list starts with a prefix no public address has, none does."""
    try:
        text = "\n" + "\n".join(chain.from_iterable(filter(None, addresses)))
    except TypeError:  # not a list of strings (never from a light decode): ask each one
        return list(compress(count(), map(PUBLIC_SOURCE_IPS.__contains__, addresses)))
    # Each address starts a "\n"-separated piece (an address holding a newline makes more
    # pieces, never fewer); the prefixes are distinct with the "\n", so a piece is counted at
    # most once: when the counts add up to the pieces, every address starts like a private one.
    pieces = text.count("\n")
    seen = 0
    for prefix in _PRIVATE_PREFIXES:
        seen += text.count(prefix)
        if seen == pieces:
            return []
    if all(map(str.startswith, chain.from_iterable(filter(None, addresses)),
               repeat(_NEVER_PUBLIC))):
        return []
    return list(compress(count(), map(PUBLIC_SOURCE_IPS.__contains__, addresses)))


class _Screen:
    """One set of rules (a mapping field -> allowed values each), asked about a list of light
    events: `found(events)` the indexes some rule may match."""

    def __init__(self, requirements: Sequence[Mapping[str, Any]],
                 light: Callable[[Any], Any]) -> None:
        # A rule with no requirement left (one that required only a public address): every
        # event it is asked about may match.
        self.everything = any(not req for req in requirements)
        groups, tests = grouped(requirements, light)
        others = [check for check in tests if check]
        made = {names: _group(names, sure, checked) for names, (sure, checked) in groups.items()}
        self.other_groups: tuple[_Group, ...] = tuple(
            group for names, group in made.items() if "resource" not in names)
        by_resource = {names: (*sure, *checked) for names, (sure, checked) in groups.items()
                       if "resource" in names}
        with_verb = all("verb" in names for names in by_resource)
        self.screen = _RESOURCE_VERB if with_verb else _RESOURCE
        # The groups requiring a resource, by the screened value (resource, or resource and
        # verb) of their combinations: an event is looked up only in the groups that have a
        # combination with its own.
        screened: dict[Any, dict[tuple[str, ...], _Group]] = {}
        for names, combos in by_resource.items():
            for combo in combos:
                key = _project(names, combo, ("resource", "verb") if with_verb else ("resource",))
                screened.setdefault(key, {})[names] = made[names]
        self.screened: dict[Any, tuple[_Group, ...]] = {
            key: tuple(found.values()) for key, found in screened.items()}
        self.getters: tuple[tuple[Callable[[Any], Any], Any, _Predicate], ...] = tuple(
            (*check[0], _predicate((check,))) for check in others)

    def found(self, events: list[Any]) -> set[int]:
        """Indexes of the events some rule may match. Per group, one C-level pass over the
        events' values; the tests (a principal, the body's keys) run only on the hits."""
        if self.everything:
            return set(range(len(events)))
        found: set[int] = set()
        hits: list[int] = []  # events some rule has more to ask of, and the test of that
        tests: list[_Predicate] = []
        if self.screened:
            keys = list(map(self.screen, events))
            for i in compress(count(), map(self.screened.__contains__, keys)):
                # (about one event in ten in a busy cluster's log: a plain loop over those)
                ev = events[i]
                for get, sure, checked in self.screened[keys[i]]:
                    value = get(ev)
                    if value in sure:
                        found.add(i)
                        break
                    test = checked.get(value)
                    if test is not None and test(ev):
                        found.add(i)
                        break
        for get, sure, checked in self.other_groups:
            if not checked:  # (the usual block holds none of the values: one pass, no list)
                if not sure.isdisjoint(map(get, events)):
                    found.update(compress(count(), map(sure.__contains__, map(get, events))))
            else:
                _look_up(list(map(get, events)), sure, checked, found, hits, tests)
        columns: dict[Callable[[Any], Any], list[Any]] = {}
        for first, allowed, test in self.getters:
            values = columns.get(first)
            if values is None:
                values = columns[first] = list(map(first, events))
            if not allowed.isdisjoint(values):
                some_hits = list(compress(count(), map(allowed.__contains__, values)))
                hits += some_hits
                tests += repeat(test, len(some_hits))
        if hits:  # each test once per hit, all in C but the tests themselves
            found.update(compress(hits, map(call, tests, map(events.__getitem__, hits))))
        return found


def _look_up(values: list[Any], sure: frozenset[Any], checked: Mapping[Any, _Predicate],
             found: set[int], hits: list[int], tests: list[_Predicate]) -> None:
    """Of the events whose group values are `values` (in order): those a sure combination lets
    through go into `found`, those with more to check into `hits` (and their test, `tests`)."""
    if sure:
        found.update(compress(count(), map(sure.__contains__, values)))
    if checked:
        ks = list(compress(count(), map(checked.__contains__, values)))
        if ks:
            hits += ks
            tests += map(checked.__getitem__, map(values.__getitem__, ks))
