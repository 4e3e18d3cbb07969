"""The fast path of an Event Hub body: its records' audit Events light-decoded in one batch,
without building the body, so only the records some rule may match are fully decoded.

`prefiltered_body(text, origin, prefilter)` answers the body's outcomes, or None when the body is
not the plain case it handles (the caller then decodes it fully, as before). The plain case:

* the body is `{"records": [...]}` and nothing else (one msgspec decode checks the JSON and
  slices out each record, unbuilt);
* each record is an object whose `category` and `properties.log` are strings (a typed decode per
  record, in one C-level map);
* each audit record's log text, as it stands escaped in the body, is `"<content>\\n"` whose only
  escapes are `\\"` and `\\\\` — then pairing the backslashes of each run from its left (as
  JSON does) and replacing `\\"` by `"` *is* its JSON unescape (a backslash left standing means
  another escape, and the body goes the slow way). The contents are joined, one per
  line, and light-decoded as one block (rules/lightevent.py `decode_buffer`, which proves line i
  is event i and accepts only well-typed audit Events).

Then each record no rule can match is Prefiltered (in runs), exactly as decode_aks_record would
decide for it (category `kube-audit`/`kube-audit-admin`, an audit Event the prefilter rejects);
every other record — a candidate, another category or another casing of one — is parsed alone
(orjson) and decoded by decode_aks_record, as the full path would. Anything unexpected on the way
(an error, a count that does not add up) answers None before any outcome is given.

One difference remains, in the direction of reporting more: a body that is valid JSON but holds,
in a record no rule can match, a number orjson refuses (one beyond a double's range, `1e999`)
fails whole in the full parse, while here its other records keep their own outcomes.
"""

from __future__ import annotations

from itertools import compress
from operator import attrgetter
from typing import TYPE_CHECKING

import msgspec
import orjson

from kubetrail.errors import Origin
from kubetrail.sources.base import Outcome, Prefiltered
from kubetrail.sources.common import is_utf8
from kubetrail.sources.density import check_density
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


_CATEGORY, _LOG = attrgetter("category"), attrgetter("properties.log")
_decode_body = msgspec.json.Decoder(_Body).decode
_decode_record = msgspec.json.Decoder(_Record).decode


def prefiltered_body(text: bytes, origin: Origin, prefilter: Prefilter) -> list[Outcome] | None:
    """The outcomes of the Event Hub body `text`, or None to decode it the full way."""
    try:
        return _outcomes(text, origin, prefilter)
    except Exception:  # a decode error, RecursionError, a density refusal, ...: the full way
        return None


def _outcomes(text: bytes, origin: Origin, prefilter: Prefilter) -> list[Outcome] | None:
    if not is_utf8(text):
        return None  # broken encoding fails as it should, in the full parse
    check_density(text)
    raws = _decode_body(text).records
    if not raws:
        return None
    records = list(map(_decode_record, raws))
    audit = list(map(AUDIT_CATEGORIES.__contains__, map(_CATEGORY, records)))
    logs = list(map(_LOG, compress(records, audit)))
    events = _light_events(logs, prefilter) if logs else []
    if events is None or len(events) != len(logs):
        return None
    picked = prefilter.candidates(events)
    if len(logs) == len(records):
        looked = picked  # (every record of an audit category: the usual case)
    else:  # a record is looked at when it is not of an audit category (spelled exactly), or
        may = iter(_flags(len(events), picked))  # when it may match
        looked = [i for i, is_audit in enumerate(audit) if not is_audit or next(may)]
    out: list[Outcome] = []
    start = 0
    for i in looked:
        if i > start:
            out.append(Prefiltered(origin.child(f"records[{start}]"), i - start))
        record = orjson.loads(bytes(raws[i]))
        # (on a record of an audit category the prefilter has had its say: it may match)
        out.append(decode_aks_record(record, origin.child(f"records[{i}]"),
                                     None if audit[i] else prefilter))
        start = i + 1
    if start < len(raws):
        out.append(Prefiltered(origin.child(f"records[{start}]"), len(raws) - start))
    return out


def _light_events(logs: list[str], prefilter: Prefilter) -> list[object] | None:
    """The light events of the log texts, or None unless each is one line (ended by its newline)
    holding one well-typed audit Event: decode_buffer refuses a block whose lines do not match
    its events one to one, so a log without its newline or with one inside is never misread."""
    return prefilter.light.decode_buffer(bytearray(b"[" + "".join(logs).encode()))


def _flags(n: int, picked: list[int]) -> list[bool]:
    flags = [False] * n
    for i in picked:
        flags[i] = True
    return flags
