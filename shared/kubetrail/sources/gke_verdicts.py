"""The verdicts of a batch of light-decoded GKE LogEntries (sources/pubsub_batch.py reads them):
what pubsub_fast._read decides for each entry alone, in C-level passes over columns of values.

Per distinct methodName, the rules whose verb, resource and subresource requirements it meets
are found once (gke.parse_method, as the full decoder reads it: its "plan"); only their other
requirements are then tested, cheapest first (`_cost`): value lookups and the public-address
test over whole columns, other tests (username: [system]) on the entries left, and request-body
keys, which the prefilter looks for in the body's text, by asking the prefilter about the
entry's light event exactly as pubsub_fast does. An entry that was not read, or holds a null
struct, is DECLINED (left to the per-line verdict).
"""

from __future__ import annotations

from functools import partial
from itertools import compress, count, repeat
from operator import and_, attrgetter, eq, is_, is_not
from typing import TYPE_CHECKING, Any

from kubetrail.rules.network import PublicSourceIPs, public_flags
from kubetrail.sources.gke import GRPC_TO_HTTP
from kubetrail.sources.pubsub_fast import light_entry, parse_method_cached

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

PREFILTERED, CANDIDATE, DECLINED = 0, 1, 2
_PLANS_MAX = 4096  # distinct methodNames remembered per prefilter
_METHOD_FIELDS = ("verb", "resource", "subresource")
_ENTRY_FIELDS = ("username", "response_code", "source_ips")
REQUEST_OBJECT = "request_object"  # (rules/requirements.py, not imported for this name)
_SERVICE, _METHOD = attrgetter("protoPayload.serviceName"), attrgetter("protoPayload.methodName")
_USERNAME = attrgetter("protoPayload.authenticationInfo.principalEmail")
_CALLER_IP = attrgetter("protoPayload.requestMetadata.callerIp")
_CALLER_IP2 = attrgetter("protoPayload.requestMetadata.callerIP")
_CODE, _IS_K8S = attrgetter("protoPayload.status.code"), partial(eq, "k8s.io")
_HTTP: dict[int | None, int] = {None: 200, **dict(GRPC_TO_HTTP.items())}


Plan = tuple[tuple[tuple[str, Any], ...], ...]  # per rule that may match: (field, allowed)...
_Plans = tuple[dict[str | None, Plan | None], dict[Plan, Plan]]
_PLANS: dict[int, tuple[Prefilter, _Plans]] = {}


def _plans(reduced: Prefilter) -> _Plans:
    """The plans of the methods seen (None: not a method), and one object per distinct plan."""
    kept = _PLANS.get(id(reduced))
    if kept is None or kept[0] is not reduced:
        if len(_PLANS) > 16:
            _PLANS.clear()
        kept = _PLANS[id(reduced)] = (reduced, ({None: None}, {}))
    return kept[1]


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
    try:
        columns = _Columns(entries, reduced)
    except AttributeError:  # an entry not read, or a null protoPayload, status, ...
        return [_judge_one(entry, reduced) for entry in entries]
    try:
        return _judged(columns, reduced)
    except Exception:  # e.g. a requirement this path cannot test: the per-line verdicts decide
        return [DECLINED] * len(entries)


def _judged(columns: _Columns, reduced: Prefilter) -> list[int]:
    plans, interned = _plans(reduced)
    for method in set(columns.methods).difference(plans):
        if len(plans) >= _PLANS_MAX:
            plans.clear()
            plans[None] = None
            interned.clear()
        plan = _plan(method, reduced)  # (one object per distinct plan: the batch groups by it)
        plans[method] = plan if plan is None else interned.setdefault(plan, plan)
    per_entry = list(map(plans.__getitem__, columns.methods))
    # read: a k8s.io entry with a method and a code the full decoder accepts (C-level passes)
    read = list(map(and_, map(_IS_K8S, columns.services),
                    map(and_, map(is_not, per_entry, repeat(None)),
                        map(is_not, columns.http, repeat(None)))))
    out = [PREFILTERED if r else DECLINED for r in read]
    may: set[int] = set()
    for plan in dict(zip(map(id, per_entry), per_entry, strict=True)).values():
        if not plan:
            continue  # () no rule can match; None refused (not read)
        indexes = list(compress(count(), map(and_, read, map(is_, per_entry, repeat(plan)))))
        for rest in plan:
            alive = indexes
            for field, allowed in rest:
                if field == REQUEST_OBJECT:  # (last: the rest held) an entry not yet known to
                    alive = [i for i in alive if i not in may and columns.may_match(i)]  # may
                else:
                    alive = _holding(columns, field, allowed, alive)
            may.update(alive)
    for i in may:
        out[i] = CANDIDATE
    return out


class _Columns:
    """The values pubsub_fast._read derives from each entry, a column each (C-level passes; the
    username and address columns only when some rule asks)."""

    def __init__(self, entries: list[Any], reduced: Prefilter) -> None:
        self.services = list(map(_SERVICE, entries))
        self.methods = list(map(_METHOD, entries))
        self.http = list(map(_HTTP.get, map(_CODE, entries)))
        self.entries, self.reduced = entries, reduced
        self._columns: dict[str, list[Any]] = {"response_code": self.http}
        self._asked: dict[int, bool] = {}

    def may_match(self, i: int) -> bool:
        """The prefilter's answer for entry i's light entry, as pubsub_fast asks it (for a rule
        requiring request-body keys, which the prefilter looks for in the body's text)."""
        known = self._asked.get(i)
        if known is None:
            method, http = self.methods[i], self.http[i]
            parsed = None if method is None else parse_method_cached(method)
            known = self._asked[i] = parsed is None or http is None or bool(
                self.reduced.event_may_match(light_entry(self.entries[i].protoPayload, parsed,
                                                         http)))
        return known

    def values(self, field: str, indexes: list[int]) -> list[Any]:
        column = self._columns.get(field)
        if column is None:
            if field == "username":
                column = list(map(_USERNAME, self.entries))
            elif field == "source_ips":  # (callerIp, else callerIP: one address or none)
                column = list(map(_CALLER_IP, self.entries))
                for i in compress(count(), map(is_, column, repeat(None))):
                    column[i] = _CALLER_IP2(self.entries[i])
            else:
                raise KeyError(field)
            self._columns[field] = column
        return list(map(column.__getitem__, indexes))


def _holding(columns: _Columns, field: str, allowed: Any, indexes: list[int]) -> list[int]:
    """The indexes whose value of `field` is allowed."""
    if not indexes:
        return indexes
    values = columns.values(field, indexes)
    if field == "source_ips":
        if isinstance(allowed, PublicSourceIPs):
            return list(compress(indexes, public_flags(values)))
        return [i for i, ip in zip(indexes, values, strict=True)
                if ([] if ip is None else [ip]) in allowed]
    return list(compress(indexes, map(allowed.__contains__, values)))


def _judge_one(entry: Any, reduced: Prefilter) -> int:
    """An entry with every struct _Columns reads is judged alone; one that was not read, or holds
    a null struct (which pubsub_fast reads as None), is left to the per-line verdict."""
    pp = None if entry is None else entry.protoPayload
    if pp is None or None in (pp.authenticationInfo, pp.requestMetadata, pp.status):
        return DECLINED
    return judge_all([entry], reduced)[0]
