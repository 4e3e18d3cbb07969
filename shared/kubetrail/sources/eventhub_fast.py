"""The fast path of an Event Hub body: its records' audit Events light-decoded in one batch,
without building the body, so only the records some rule may match are fully decoded.

`prefiltered_body(text, origin, prefilter)` answers the body's outcomes, or None when the body is
not a case it handles (the caller then decodes it fully, as before). Two reads, the first that
applies:

* typed (the usual body): `{"records": [...]}` and nothing else, every record an object whose
  values are strings or objects of strings, read in one msgspec decode that builds each record
  as orjson would (a dict; duplicated keys count with their last value, in their first place),
  so a candidate is decoded from it with no second parse. The full parse refuses text too dense
  in objects and arrays (density.py); here one byte count proves it would not (see
  `_typed_outcomes`), else this read declines;
* raw: `{"records": [...]}` and nothing else (one msgspec decode checks the JSON and slices out
  each record, unbuilt), each record an object whose `category` and `properties.log` are strings
  (a typed decode per record, in one C-level map); a candidate is parsed alone (orjson).

Either way each audit record's `properties.log` string is light-decoded by itself, strictly
(rules/lightevent.py `decode_event`: one well-typed audit Event, kind "Event" and no
p_log_type), in one C-level map over the body's logs; the light events go through the block
screen (Prefilter.candidates) together. A log the strict decode cannot read (a BOM, a cut text,
a Panther log, another kind...) is not judged here: its record is decoded by
decode_aks_record with the prefilter, i.e. exactly as the full path decodes it. A log it reads
is the same text the full path's lenient light decode (`decode_line`) reads, so the same fields
and the same answer of the prefilter. Then each record no rule can match is Prefiltered (in
runs), exactly as decode_aks_record would decide for it (category `kube-audit`/
`kube-audit-admin`, an audit Event the prefilter rejects); every other record — a candidate, an
unread log, another category or another casing of one — is decoded by decode_aks_record, as the
full path would. Anything unexpected on the way (an error) answers None before any outcome
is given.

One difference remains (raw read), in the direction of reporting more: a body that is valid JSON
but holds, in a record no rule can match, a number orjson refuses (one beyond a double's range,
`1e999`) fails whole in the full parse, while here its other records keep their own outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import compress, count, repeat
from operator import attrgetter, itemgetter, not_
from typing import TYPE_CHECKING, Any

import msgspec
import orjson

from kubetrail.errors import Origin
from kubetrail.sources.base import Outcome, Prefiltered
from kubetrail.sources.common import is_utf8
from kubetrail.sources.density import CONTAINER_ALLOWANCE, CONTAINER_DENSITY, check_density
from kubetrail.sources.eventhub import AUDIT_CATEGORIES, decode_aks_record

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

BODY_PREFIX = b'{"records":'


class _Body(msgspec.Struct, forbid_unknown_fields=True):
    records: list[msgspec.Raw]


class _Properties(msgspec.Struct):
    log: str


class _Record(msgspec.Struct):
    category: str
    properties: _Properties


class _TypedBody(msgspec.Struct, forbid_unknown_fields=True):
    records: list[dict[str, str | dict[str, str]]]


_CATEGORY, _LOG = attrgetter("category"), attrgetter("properties.log")
_GET_LOG = itemgetter("log")
# In a body of this read (records of strings and objects of strings), every object or array
# opened outside a string but the first record of a `records` array follows at least two bytes
# that open nothing (`},`, `":`): at most len/3 + 2 of them. Up to this length that is within
# density.py's limit (len // CONTAINER_DENSITY + CONTAINER_ALLOWANCE), so nothing is counted.
_UNCOUNTED = int((CONTAINER_ALLOWANCE - 3) / (1 / 3 - 1 / CONTAINER_DENSITY))
_decode_body = msgspec.json.Decoder(_Body).decode
_decode_record = msgspec.json.Decoder(_Record).decode
_decode_typed_body = msgspec.json.Decoder(_TypedBody).decode


def prefiltered_body(text: bytes, origin: Origin, prefilter: Prefilter) -> list[Outcome] | None:
    """The outcomes of the Event Hub body `text`, or None to decode it the full way."""
    try:
        # (no UTF-8 check first: the typed decode builds every string and key of the text and
        # refuses broken UTF-8 in them, and a non-ASCII byte anywhere else is malformed JSON)
        found = _typed_outcomes(text, origin, prefilter)
    except Exception:  # a decode error, RecursionError, a record of another shape, ...
        found = None
    if found is not None:
        return None if found is _FULL_WAY else found
    if not is_utf8(text):
        return None  # broken encoding fails as it should, in the full parse (the raw read
        # below skips what it does not build, unchecked)
    try:
        return _outcomes(text, origin, prefilter)
    except Exception:  # a decode error, RecursionError, a density refusal, ...: the full way
        return None


def _typed_outcomes(text: bytes, origin: Origin, prefilter: Prefilter) -> list[Outcome] | None:
    """The usual body, whose records hold only strings and objects of strings: read in one
    typed decode that builds each record as orjson would (a dict of its str and dict values),
    so a candidate needs no second parse."""
    if len(text) > _UNCOUNTED:  # (before the decode, which would build all those objects)
        # The full parse refuses text with more than `limit` objects and arrays outside its
        # strings (density.py). Here the arrays outside strings are `records` values, one per
        # 13 bytes at most (`"records":[],`), and the objects are at most every "{": under the
        # limit, that parse would not refuse (one byte count, not two plus a regex pass).
        limit = len(text) // CONTAINER_DENSITY + CONTAINER_ALLOWANCE
        if text.count(b"{") + 1 + len(text) // 13 > limit:
            return None
    records = _decode_typed_body(text).records
    if not records:
        return _FULL_WAY
    categories = list(map(dict.get, records, repeat("category")))
    if AUDIT_CATEGORIES.issuperset(categories):  # (the usual body: no other category)
        audit = [True] * len(records)
        audited: Iterable[dict[str, Any]] = records
    else:  # (an unhashable category raises: a dict, which the full decode refuses)
        audit = list(map(AUDIT_CATEGORIES.__contains__, categories))
        audited = compress(records, audit)
    # (every log is a str: a `properties` that is a str has no "log" item, it raises)
    logs = list(map(_GET_LOG, map(dict.__getitem__, audited, repeat("properties"))))
    return _runs(records, audit, logs, origin, prefilter, records.__getitem__)


_FULL_WAY: list[Outcome] = []  # (by identity) no fast read applies: decode the body fully


def _outcomes(text: bytes, origin: Origin, prefilter: Prefilter) -> list[Outcome] | None:
    """The raw read: records of any shape whose category and log are strings."""
    check_density(text)
    raws = _decode_body(text).records
    if not raws:
        return None
    records = list(map(_decode_record, raws))
    audit = list(map(AUDIT_CATEGORIES.__contains__, map(_CATEGORY, records)))
    logs = list(map(_LOG, compress(records, audit)))
    return _runs(raws, audit, logs, origin, prefilter, lambda i: orjson.loads(bytes(raws[i])))


def _runs(records: Sequence[object], audit: list[bool], logs: list[str], origin: Origin,
          prefilter: Prefilter, record: Callable[[int], Any]) -> list[Outcome]:
    """The outcomes: runs of Prefiltered records around the records looked at, decoded by
    decode_aks_record from `record(i)` (the record as orjson parses it)."""
    picked, unread = _looked_at(logs, prefilter) if logs else ([], [])
    # The prefilter decides again for a record whose log the strict decode could not read, and
    # for one of another category or casing; on the others (candidates) it has had its say.
    decide = set(unread)
    if len(logs) != len(records):  # a record is looked at when it is not of an audit category
        where = list(compress(count(), audit))  # (spelled exactly), or when its log is
        decide = {*map(where.__getitem__, unread), *compress(count(), map(not_, audit))}
        picked = sorted({*decide, *map(where.__getitem__, picked)})
    out: list[Outcome] = []
    start = 0
    for i in picked:
        if i > start:
            out.append(Prefiltered(origin.child(f"records[{start}]"), i - start))
        out.append(decode_aks_record(record(i), origin.child(f"records[{i}]"),
                                     prefilter if i in decide else None))
        start = i + 1
    if start < len(records):
        out.append(Prefiltered(origin.child(f"records[{start}]"), len(records) - start))
    return out


def _looked_at(logs: list[str], prefilter: Prefilter) -> tuple[list[int], list[int]]:
    """Indexes of the logs to look at: (those some rule may match or the strict decode cannot
    read, sorted; those it cannot read)."""
    decode = prefilter.light.decode_event
    try:
        events = list(map(decode, logs))
    except Exception:  # a log that is not one well-typed audit Event: read them one by one
        return _one_by_one(logs, prefilter)
    return prefilter.candidates(events), []


def _one_by_one(logs: list[str], prefilter: Prefilter) -> tuple[list[int], list[int]]:
    decode = prefilter.light.decode_event
    events = []
    read: list[int] = []
    unread: list[int] = []
    for i, log in enumerate(logs):
        try:
            events.append(decode(log))
        except Exception:  # a decode error, RecursionError on deep nesting, ...
            unread.append(i)
        else:
            read.append(i)
    return sorted([*map(read.__getitem__, prefilter.candidates(events)), *unread]), unread
