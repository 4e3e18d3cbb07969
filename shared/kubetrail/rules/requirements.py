"""The values of a rule's `Requires`: what each field may hold for the rule to match.

A field maps to a list of values the event's field must equal (a frozenset), or to one of three
tests, spelled as a one-word list in the YAML:

* `source_ips: [public]` — some source address is public (rules/network.py PublicSourceIPs);
* `username: [non-system]` or `[system]` — the user is not (is) a system principal
  (rules/principals.py: the exact notion every rule of the pack uses), Principal here;
* `request_object: [key, ...]` — the request body has a mapping key spelled exactly like one of
  these, at any depth (a JSON patch read as the manifest it writes, sources/patches.py), RequestKeys
  here. Keys are ASCII letters, digits, `_`, `.` and `-`, so the body's JSON text holds each one it
  has literally or with a \\u escape (the prefilter's test, rules/prefilter.py).

The engine checks `getattr(event, field) in value` before calling a rule (rules/index.py), so a
test value is a container whose `in` runs the test; the prefilter is derived from the same values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kubetrail.rules.lightfields import FIELDS as LIGHT_FIELDS
from kubetrail.rules.network import PUBLIC_SOURCE_IPS
from kubetrail.rules.principals import is_system_principal

REQUEST_OBJECT = "request_object"
FIELDS = LIGHT_FIELDS
NON_SYSTEM, SYSTEM = "non-system", "system"
_KEY = re.compile(r"[A-Za-z0-9_.-]+")


class Principal:
    """The value of `Requires: {username: [non-system]}` (`system=False`) or `[system]`:
    membership means "this username is (not) a system principal" (is_system_principal; no
    username is none), for an AuditEvent and a light event alike."""

    def __init__(self, system: bool) -> None:
        self.system = system

    def __contains__(self, username: Any) -> bool:
        return (isinstance(username, str) and is_system_principal(username)) is self.system

    def isdisjoint(self, values: Iterable[Any]) -> bool:
        """No value is a username of this kind."""
        return not any(map(self.__contains__, values))

    def __iter__(self) -> Iterator[str]:
        return iter((SYSTEM if self.system else NON_SYSTEM,))  # as the YAML spells it

    def __repr__(self) -> str:
        return f"Principal(system={self.system})"


NON_SYSTEM_PRINCIPAL, SYSTEM_PRINCIPAL = Principal(system=False), Principal(system=True)


class RequestKeys:
    """The value of `Requires: {request_object: [keys]}`: membership of a request body means
    "some mapping in it, at any depth, has one of these keys". `needles` are the keys as bytes,
    for the prefilter's text test."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = frozenset(keys)
        self.needles = tuple(sorted(k.encode() for k in self.keys))

    def __contains__(self, body: Any) -> bool:
        # (no body, a Metadata-level record: no keys, without a walk)
        return body is not None and not self.keys.isdisjoint(_all_keys(body))

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.keys))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RequestKeys) and other.keys == self.keys

    def __hash__(self) -> int:
        return hash(self.keys)

    def __repr__(self) -> str:
        return f"RequestKeys({sorted(self.keys)})"


class BodyText:
    """`request_object: [keys]` as the prefilter tests it on a light event's requestObject (its
    JSON text, rules/lightevent.py): the body may have one of the keys when its text holds one
    literally, or an escape of a character some key holds (`escapes`: the only two ways JSON
    can spell a key). A light event without the body's text (UNKNOWN_BODY) may have them."""

    def __init__(self, keys: tuple[bytes, ...], escapes: re.Pattern[bytes]) -> None:
        self.keys = keys
        self.escapes = escapes
        # The keys by their first four letters (a key is in a text only if they are): one
        # search for `host` instead of one per hostIPC, hostNetwork, hostPID, hostPath, ...
        by_start: dict[bytes, list[bytes]] = {}
        for key in keys:
            by_start.setdefault(key[:4], []).append(key)
        self._searches = tuple((start, tuple(found)) if len(found) > 1 else (found[0], ())
                               for start, found in by_start.items())

    def __contains__(self, body: Any) -> bool:
        if body is UNKNOWN_BODY:
            return True
        if not body:  # no requestObject (a msgspec.Raw of nothing): Metadata level
            return False
        text = bytes(body)
        for start, keys in self._searches:
            if start in text and (not keys or any(map(text.__contains__, keys))):
                return True
        return self.escapes.search(text) is not None

    def isdisjoint(self, bodies: Iterable[Any]) -> bool:
        """No body may have a key."""
        return not any(map(self.__contains__, bodies))

    def merged(self, other: BodyText) -> BodyText:
        """Either's keys."""
        return BodyText(tuple(sorted({*self.keys, *other.keys})), self.escapes)


UNKNOWN_BODY = object()


def request_body_text(light: Any) -> Any:
    """A light event's requestObject text; UNKNOWN_BODY for a light event made without it (the
    GKE Pub/Sub fast path builds its own, sources/pubsub_fast.py)."""
    return getattr(light, "requestObject", UNKNOWN_BODY)


def _all_keys(body: Any) -> frozenset[str]:
    """Every mapping key of a decoded body, at any depth. Several rules ask about the same body
    in a row: the last answer is kept, keyed by the body's identity (held here, so the identity
    cannot be reused while it is kept; one tuple swap keeps it safe across threads)."""
    last_body, last_keys = _LAST[0]
    if last_body is body and body is not None:
        return last_keys
    # Bodies come from JSON: dicts, lists and scalars, told apart by exact type (an ABC
    # isinstance per value costs more than the rest of the walk). Any other value is pushed and
    # judged when popped, by the general checks: the same keys for any body.
    keys: set[Any] = set()
    stack = [body]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        kind = type(node)
        if kind is dict:
            keys.update(node)
            for value in node.values():
                if type(value) not in _SCALARS:
                    push(value)
        elif kind is list:
            for value in node:
                if type(value) not in _SCALARS:
                    push(value)
        elif kind in _SCALARS:
            continue
        elif isinstance(node, Mapping):
            keys.update(k for k in node if isinstance(k, str))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    found = frozenset(keys)
    if not _STR.issuperset(map(type, found)):  # (only a body not made from JSON)
        found = frozenset(k for k in found if isinstance(k, str))
    _LAST[0] = (body, found)
    return found


_LAST: list[tuple[Any, frozenset[str]]] = [(None, frozenset())]
_SCALARS = frozenset({str, int, float, bool, type(None)})
_STR = frozenset({str})


def requirements(spec: Any) -> dict[str, Any]:
    """A rule's `Requires` (the parsed YAML mapping) as field -> value; the tests last, so the
    engine tries the cheap comparisons first. ValueError says what is wrong."""
    if not isinstance(spec, Mapping) or not all(_ok(k, v) for k, v in spec.items()):
        raise ValueError(
            f"Requires must map some of {sorted(FIELDS)} to non-empty lists: strings "
            "(response_code: integers, source_ips: [public], username: strings, [non-system] "
            "or [system], "
            "request_object: keys of letters, digits, '_', '.', '-')")
    values = {k: _value(k, v) for k, v in spec.items()}
    return dict(sorted(values.items(), key=lambda kv: not isinstance(kv[1], frozenset)))


def _ok(k: Any, v: Any) -> bool:
    if k not in FIELDS or not isinstance(v, list) or not v:
        return False
    if k == "response_code":
        return all(type(s) is int for s in v)
    if k == "source_ips":
        return v == ["public"]
    if k == REQUEST_OBJECT:
        return all(isinstance(s, str) and _KEY.fullmatch(s) for s in v)
    if k == "username" and (NON_SYSTEM in v or SYSTEM in v):
        return v in ([NON_SYSTEM], [SYSTEM])
    return all(isinstance(s, str) and s for s in v)


def _value(k: str, v: list[Any]) -> Any:
    if k == "source_ips":
        return PUBLIC_SOURCE_IPS
    if k == REQUEST_OBJECT:
        return RequestKeys(v)
    if k == "username" and v in ([NON_SYSTEM], [SYSTEM]):
        return SYSTEM_PRINCIPAL if v == [SYSTEM] else NON_SYSTEM_PRINCIPAL
    return frozenset(v)
