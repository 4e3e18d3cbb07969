"""The verdicts of a batch of light-decoded GKE LogEntries (sources/pubsub_batch.py reads them):
what pubsub_fast._read decides for each entry alone, in C-level passes over columns of values.

An entry's verdict depends only on its key: whether it is a k8s.io entry, its methodName, HTTP
code, username and (when some rule reads source_ips) whether its address is public — or the
address itself when some rule asks more of it than "public". Per distinct methodName, the
rules whose verb, resource and subresource requirements it meets are found once
(gke.parse_method, as the full decoder reads it: its "plan"); a key's verdict is worked out
from its method's plan once and kept in a table per prefilter, so a batch is a few C-level
passes: its columns, its keys, a lookup of each key. A rule requiring request-body keys cannot
be judged from the key: an entry only such rules may match (their other requirements held) is
judged by the test the prefilter makes of the body's JSON text (requirements.BodyText, with the
prefilter's escapes), for those rules' keys together, as pubsub_fast's question to the prefilter
would answer. An entry that was not read, or holds a null struct, is DECLINED (left to the
per-line verdict).
"""

from __future__ import annotations

import functools
from functools import partial
from itertools import compress, count, repeat
from operator import attrgetter, eq, is_
from typing import TYPE_CHECKING, Any

from kubetrail.rules.network import PublicSourceIPs, public_flags
from kubetrail.rules.requirements import BodyText
from kubetrail.sources.gke import GRPC_TO_HTTP
from kubetrail.sources.pubsub_fast import parse_method_cached

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

PREFILTERED, CANDIDATE, DECLINED = 0, 1, 2
_PLANS_MAX = 4096  # distinct methodNames remembered per prefilter
_METHOD_FIELDS = ("verb", "resource", "subresource")
_ENTRY_FIELDS = ("username", "response_code", "source_ips")
REQUEST_OBJECT = "request_object"  # (rules/requirements.py, not imported for this name)
_PROTO, _SERVICE, _METHOD = (attrgetter("protoPayload"), attrgetter("serviceName"),
                             attrgetter("methodName"))  # (the others read a protoPayload)
_USERNAME = attrgetter("authenticationInfo.principalEmail")
_CALLER_IP = attrgetter("requestMetadata.callerIp")
_CALLER_IP2 = attrgetter("requestMetadata.callerIP")
_CODE, _IS_K8S = attrgetter("status.code"), partial(eq, "k8s.io")
_HTTP: dict[int | None, int] = {None: 200, **dict(GRPC_TO_HTTP.items())}


Plan = tuple[tuple[tuple[str, Any], ...], ...]  # per rule that may match: (field, allowed)...
_ASK = 3  # (a verdict kept in the table: ask the prefilter about each entry)
_TABLE_MAX = 1 << 14  # keys remembered per prefilter


class _State:
    """Per prefilter: the plans of the methods seen (None: not a method), the verdicts of the
    keys seen, and which values the keys hold."""

    def __init__(self, reduced: Prefilter) -> None:
        self.reduced = reduced
        self.plans: dict[str, Plan | None] = {}
        self.table: dict[tuple[Any, ...], int] = {}
        self.bodies: dict[tuple[Any, ...], BodyText] = {}  # the body test of each _ASK key
        fields = [(f, allowed) for req in reduced.requirements for f, allowed in req.items()]
        self.reads_user = any(f == "username" for f, _ in fields)
        self.reads_ips = any(f == "source_ips" for f, _ in fields)
        self.public_only = all(isinstance(allowed, PublicSourceIPs)
                               for f, allowed in fields if f == "source_ips")


_STATES: dict[int, _State] = {}


def _plans(reduced: Prefilter) -> _State:
    """The state kept for `reduced` (made on first use)."""
    kept = _STATES.get(id(reduced))
    if kept is None or kept.reduced is not reduced:
        if len(_STATES) > 16:
            _STATES.clear()
        kept = _STATES[id(reduced)] = _State(reduced)
    return kept


def _plan(method: str, reduced: Prefilter) -> Plan | None:
    """None when the full decoder refuses the method; else, per rule whose verb, resource and
    subresource requirements the method meets, the rest of its requirements (field, allowed) in
    _cost order; () when no rule can match. A field this path does not know raises."""
    parsed = parse_method_cached(method)
    if parsed is None:
        return None
    values = dict(zip(_METHOD_FIELDS, parsed, strict=True))
    plan = set()
    for req in reduced.requirements:
        if all(values[f] in req[f] for f in _METHOD_FIELDS if f in req):
            rest = [(f, req[f]) for f in req if f not in _METHOD_FIELDS]
            rest.sort(key=_cost)
            if not rest:
                return ((),)  # some rule may match whatever the entry's other values
            plan.add(tuple(rest))
    return tuple(sorted(plan, key=lambda rest: (  # (rules reading the body last)
        rest[-1][0] == REQUEST_OBJECT, [(f, id(allowed)) for f, allowed in rest])))


def _cost(item: tuple[str, Any]) -> tuple[int, int]:
    """Test order: value lookups, then the public-address test (C-level passes), then other tests
    (a Python call per entry, e.g. username: [system]) on the few entries left."""
    field, allowed = item
    if field == REQUEST_OBJECT:  # (the few entries left are judged as pubsub_fast judges them)
        return 3, 0
    kind = 0 if isinstance(allowed, frozenset) else 1 if isinstance(allowed, PublicSourceIPs) else 2
    return kind, _ENTRY_FIELDS.index(field)  # (a field this path does not read: ValueError)


def judge_all(entries: list[Any], reduced: Prefilter) -> list[int]:
    """pubsub_fast._read's decision for each light-decoded entry (None: not readable)."""
    state = _plans(reduced)
    try:
        keys = _keys(entries, state)
    except AttributeError:  # an entry not read, or a null protoPayload, status, ...
        return [_judge_one(entry, reduced) for entry in entries]
    try:
        return _judged(entries, keys, state, reduced)
    except Exception:  # e.g. a requirement this path cannot test: the per-line verdicts decide
        return [DECLINED] * len(entries)


def _keys(entries: list[Any], state: _State) -> list[tuple[Any, ...]]:
    """Each entry's key (module doc), in C-level passes over the batch."""
    pps = list(map(_PROTO, entries))
    users = map(_USERNAME, pps) if state.reads_user else repeat(None)
    ips: Any = repeat(None)
    if state.reads_ips:  # (callerIp, else callerIP: one address or none)
        ips = list(map(_CALLER_IP, pps))
        for i in compress(count(), map(is_, ips, repeat(None))):
            ips[i] = _CALLER_IP2(pps[i])
        if state.public_only:
            ips = public_flags(ips)
    return list(zip(map(_IS_K8S, map(_SERVICE, pps)), map(_METHOD, pps),
                    map(_HTTP.get, map(_CODE, pps)), users, ips, strict=False))  # (repeat)


def _judged(entries: list[Any], keys: list[tuple[Any, ...]], state: _State,
            reduced: Prefilter) -> list[int]:
    table = state.table
    out: list[Any] = list(map(table.get, keys))
    if None in out:  # keys not seen yet
        if len(table) >= _TABLE_MAX:
            table.clear()
            state.bodies.clear()
        for i in compress(count(), map(is_, out, repeat(None))):
            found = table.get(keys[i])
            if found is None:
                found = table[keys[i]] = _verdict(keys[i], state, reduced)
            out[i] = found
    if _ASK in out:  # (a rule reading the request body may match these)
        bodies = state.bodies
        for i in compress(count(), map(eq, out, repeat(_ASK))):
            out[i] = CANDIDATE if entries[i].protoPayload.request in bodies[keys[i]] \
                else PREFILTERED
    return out


def _verdict(key: tuple[Any, ...], state: _State, reduced: Prefilter) -> int:
    """The verdict of every entry with this key: DECLINED when the full decoder would not read
    it, CANDIDATE when some rule's requirements hold, _ASK when only rules reading the request
    body may match, else PREFILTERED."""
    k8s, method, http, user, ip = key
    if not k8s or http is None or method is None:
        return DECLINED
    plan = state.plans.get(method)
    if plan is None and method not in state.plans:
        if len(state.plans) >= _PLANS_MAX:
            state.plans.clear()
        plan = state.plans[method] = _plan(method, reduced)
    if plan is None:
        return DECLINED
    asked: list[BodyText] = []
    for rest in plan:
        holds = True
        for field, allowed in rest:
            if field == REQUEST_OBJECT:  # (last in each rest: the others held)
                asked.append(reduced.light_value(allowed))
                holds = False
            elif field == "username":
                holds = user in allowed
            elif field == "response_code":
                holds = http in allowed
            elif field == "source_ips":
                holds = ip if state.public_only else ([] if ip is None else [ip]) in allowed
            else:
                raise KeyError(field)  # (not reached: _cost refuses other fields)
            if not holds:
                break
        if holds:
            return CANDIDATE
    if not asked:
        return PREFILTERED
    state.bodies[key] = functools.reduce(BodyText.merged, asked)
    return _ASK


def _judge_one(entry: Any, reduced: Prefilter) -> int:
    """An entry with every struct the keys read is judged alone; one that was not read, or holds
    a null struct (which pubsub_fast reads as None), is left to the per-line verdict."""
    pp = None if entry is None else entry.protoPayload
    if pp is None or None in (pp.authenticationInfo, pp.requestMetadata, pp.status):
        return DECLINED
    return judge_all([entry], reduced)[0]
