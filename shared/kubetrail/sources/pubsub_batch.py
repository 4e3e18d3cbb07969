"""Pub/Sub push bodies judged a batch at a time: pubsub_fast.py's decisions for many lines, in a
few C-level calls instead of several Python steps per line.

`push_verdicts(lines, prefilter)` answers, per line, PREFILTERED (no rule can match its entry),
CANDIDATE (its entry was read and some rule may match it: decode it fully, without the
prefilter) or DECLINED (decode it the full way, prefilter included). A line is PREFILTERED or
CANDIDATE here only when pubsub_fast.verdict would answer the same for it alone; everything the
batch cannot prove goes to that per-line path, so a batch decides exactly as its lines would.

* The push bodies are read as one JSON array, each line wrapped as `{"<nonce>": line}` with a
  random key made per process and no other key allowed: a line that is not one JSON value by
  itself can only merge with a neighbour (the array then has fewer elements than lines:
  refused), and it cannot open an element, which takes spelling the unknowable key. So element
  i is line i, with pubsub_fast's types. The batch is refused when it is not ASCII (msgspec does
  not check the UTF-8 of what it skips).
* `message.data` is base64-decoded by msgspec in the same call, as in pubsub_fast (a `bytes`
  field: what binascii's strict decode answers, or a refusal, which refuses the batch).
* The LogEntries whose data is ASCII are light-decoded as one array the same way, with
  pubsub_fast's types; the others are DECLINED.
* Per distinct methodName, the rules whose verb, resource and subresource requirements it meets
  are found once (gke.parse_method, as the full decoder reads it); only their other
  requirements are then tested, cheapest first (`_cost`).

Refused batches are retried in chunks of CHUNK_LINES, refused chunks line by line; batches over
BATCH_BYTES are judged in halves."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from functools import partial
from itertools import compress, count, repeat
from operator import and_, attrgetter, eq, is_, is_not
from typing import TYPE_CHECKING, Any

import msgspec

from kubetrail.rules.network import PublicSourceIPs, public_flags
from kubetrail.sources.gke import GRPC_TO_HTTP
from kubetrail.sources.pubsub_fast import CANDIDATE as _READ_CANDIDATE
from kubetrail.sources.pubsub_fast import gke_prefilter, parse_method_cached, verdict

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

PREFILTERED, CANDIDATE, DECLINED = 0, 1, 2
CHUNK_LINES = 32
BATCH_BYTES = 4 << 20  # a longer batch is judged in halves
_PLANS_MAX = 4096  # distinct methodNames remembered per prefilter
_METHOD_FIELDS = ("verb", "resource", "subresource")
_ENTRY_FIELDS = ("username", "response_code", "source_ips")

_NONCE = "p" + os.urandom(12).hex()  # (secrets.token_hex, without importing hashlib)
_OPEN = b'[{"' + _NONCE.encode() + b'":'
_SEPARATOR = b'},{"' + _NONCE.encode() + b'":'
_CLOSE = b"}]"


class _PushMessage(msgspec.Struct, gc=False):
    data: bytes = b""  # (as pubsub_fast: a missing data is empty)
    messageId: Any = None
    message_id: Any = None


class _Push(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    message: _PushMessage
    subscription: Any = None


# pubsub_fast.LogEntry's fields and types (null is None), but a missing struct reads as an empty
# one, so that every column is one attrgetter.
class _Auth(msgspec.Struct, gc=False):
    principalEmail: str | None = None


class _Meta(msgspec.Struct, gc=False):
    callerIp: str | None = None
    callerIP: str | None = None


class _Status(msgspec.Struct, gc=False):
    code: int | None = None


class _Proto(msgspec.Struct, gc=False):
    serviceName: Any = None
    methodName: str | None = None
    authenticationInfo: _Auth | None = msgspec.field(default_factory=_Auth)
    requestMetadata: _Meta | None = msgspec.field(default_factory=_Meta)
    status: _Status | None = msgspec.field(default_factory=_Status)


class _Entry(msgspec.Struct, gc=False):
    protoPayload: _Proto | None = msgspec.field(default_factory=_Proto)


@functools.cache
def _decoders() -> tuple[Callable[[bytes], list[Any]], Callable[[bytes], list[Any]],
                         Callable[[bytes], Any]]:  # (made on first use: cold start)
    return _wrapped(_Push), _wrapped(_Entry), msgspec.json.Decoder(_Entry).decode


def _wrapped(kind: Any) -> Callable[[bytes], list[Any]]:
    line = msgspec.defstruct("Wrapped", [("e", kind)], rename={"e": _NONCE},
                             forbid_unknown_fields=True, gc=False)
    return msgspec.json.Decoder(list[line]).decode  # type: ignore[valid-type]


_UNWRAP, _DATA = attrgetter("e"), attrgetter("message.data")
_SERVICE, _METHOD = attrgetter("protoPayload.serviceName"), attrgetter("protoPayload.methodName")
_USERNAME = attrgetter("protoPayload.authenticationInfo.principalEmail")
_CALLER_IP = attrgetter("protoPayload.requestMetadata.callerIp")
_CALLER_IP2 = attrgetter("protoPayload.requestMetadata.callerIP")
_CODE, _IS_K8S = attrgetter("protoPayload.status.code"), partial(eq, "k8s.io")
_HTTP: dict[int | None, int] = {None: 200, **dict(GRPC_TO_HTTP.items())}


def push_verdicts(lines: Sequence[bytes], prefilter: Prefilter) -> list[int]:
    """PREFILTERED, CANDIDATE or DECLINED for each Pub/Sub push body in `lines`."""
    reduced = gke_prefilter(prefilter)
    if reduced is None:
        return [DECLINED] * len(lines)
    if len(lines) > 1 and sum(map(len, lines)) > BATCH_BYTES:  # (the copies stay bounded)
        half = len(lines) // 2
        return push_verdicts(lines[:half], prefilter) + push_verdicts(lines[half:], prefilter)
    decode_pushes, decode_entries, _ = _decoders()
    pushes = _read_array(decode_pushes, lines)
    if pushes is None:
        if len(lines) <= CHUNK_LINES:
            return list(map(_one, lines, repeat(prefilter)))
        return [v for start in range(0, len(lines), CHUNK_LINES)
                for v in push_verdicts(lines[start:start + CHUNK_LINES], prefilter)]
    datas: list[bytes] = list(map(_DATA, pushes))
    out = [DECLINED] * len(lines)
    read = [i for i, data in enumerate(datas) if data and data.isascii()]
    entries = _read_array(decode_entries, [datas[i] for i in read])
    if entries is None:
        entries = [_entry(datas[i]) for i in read]
    for i, found in zip(read, _judge_all(entries, reduced), strict=True):
        out[i] = found
    return out


def _read_array(decode: Callable[[bytes], list[Any]], texts: Sequence[bytes]
                ) -> list[Any] | None:
    """The texts as the elements of one wrapped array (see the module doc), or None."""
    if not texts:
        return []
    array = _OPEN + _SEPARATOR.join(texts) + _CLOSE
    if not array.isascii():
        return None
    try:
        wrapped = decode(array)
    except Exception:  # a decode error, RecursionError on deep nesting, ...
        return None
    return list(map(_UNWRAP, wrapped)) if len(wrapped) == len(texts) else None


def _one(line: bytes, prefilter: Prefilter) -> int:
    found = verdict(line, prefilter)
    return DECLINED if found is None else CANDIDATE if found is _READ_CANDIDATE else PREFILTERED


def _entry(data: bytes) -> Any:
    try:
        return _decoders()[2](data)
    except Exception:  # (a decode error: pubsub_fast declines it too)
        return None


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
    return tuple(sorted(plan, key=lambda rest: [(f, id(allowed)) for f, allowed in rest]))


def _cost(item: tuple[str, Any]) -> tuple[int, int]:
    """Test order: value lookups, then the public-address test (C-level passes), then other tests
    (a Python call per entry, e.g. username: [system]) on the few entries left."""
    field, allowed = item
    kind = 0 if isinstance(allowed, frozenset) else 1 if isinstance(allowed, PublicSourceIPs) else 2
    return kind, _ENTRY_FIELDS.index(field)  # (a field this path does not read: ValueError)


def _judge_all(entries: list[Any], reduced: Prefilter) -> list[int]:
    """pubsub_fast._read's decision for each light-decoded entry (None: not readable)."""
    try:
        columns = _Columns(entries)
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
                alive = _holding(columns, field, allowed, alive)
            may.update(alive)
    for i in may:
        out[i] = CANDIDATE
    return out


class _Columns:
    """The values pubsub_fast._read derives from each entry, a column each (C-level passes; the
    username and address columns only when some rule asks)."""

    def __init__(self, entries: list[Any]) -> None:
        self.services = list(map(_SERVICE, entries))
        self.methods = list(map(_METHOD, entries))
        self.http = list(map(_HTTP.get, map(_CODE, entries)))
        self._entries = entries
        self._columns: dict[str, list[Any]] = {"response_code": self.http}

    def values(self, field: str, indexes: list[int]) -> list[Any]:
        column = self._columns.get(field)
        if column is None:
            if field == "username":
                column = list(map(_USERNAME, self._entries))
            elif field == "source_ips":  # (callerIp, else callerIP: one address or none)
                column = list(map(_CALLER_IP, self._entries))
                for i in compress(count(), map(is_, column, repeat(None))):
                    column[i] = _CALLER_IP2(self._entries[i])
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
    return _judge_all([entry], reduced)[0]
