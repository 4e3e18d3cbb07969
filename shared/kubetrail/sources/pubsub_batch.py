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
* The entries are judged in C-level passes over columns of their values (gke_verdicts.py).

Refused batches are retried in chunks of CHUNK_LINES, refused chunks line by line; batches over
BATCH_BYTES are judged in halves."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import msgspec

from kubetrail.sources.gke_verdicts import CANDIDATE, DECLINED, PREFILTERED, judge_all
from kubetrail.sources.pubsub import hand_over
from kubetrail.sources.pubsub_fast import CANDIDATE as _READ_CANDIDATE
from kubetrail.sources.pubsub_fast import NO_BODY, gke_prefilter, verdict

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

__all__ = ["CANDIDATE", "DECLINED", "PREFILTERED", "push_verdicts"]
CHUNK_LINES = 32
BATCH_BYTES = 1 << 18  # a longer batch is judged in halves (big buffers cost page faults)

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
    request: msgspec.Raw = NO_BODY


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


def push_verdicts(lines: Sequence[bytes], prefilter: Prefilter) -> list[int]:
    """PREFILTERED, CANDIDATE or DECLINED for each Pub/Sub push body in `lines`. The message
    data of each CANDIDATE, base64-decoded here, is handed over (pubsub.hand_over) until the
    next call: its full decode (pubsub.push_line) need not decode it again."""
    handed: dict[int, tuple[bytes, bytes]] = {}
    out = _verdicts(lines, prefilter, handed)
    hand_over(handed)
    return out


def _verdicts(lines: Sequence[bytes], prefilter: Prefilter,
              handed: dict[int, tuple[bytes, bytes]]) -> list[int]:
    reduced = gke_prefilter(prefilter)
    if reduced is None:
        return [DECLINED] * len(lines)
    if len(lines) > 1 and sum(map(len, lines)) > BATCH_BYTES:  # (the copies stay bounded)
        half = len(lines) // 2
        return (_verdicts(lines[:half], prefilter, handed)
                + _verdicts(lines[half:], prefilter, handed))
    decode_pushes, decode_entries, _ = _decoders()
    pushes = _read_array(decode_pushes, lines)
    if pushes is None:
        if len(lines) <= CHUNK_LINES:
            return list(map(_one, lines, repeat(prefilter)))
        return [v for start in range(0, len(lines), CHUNK_LINES)
                for v in _verdicts(lines[start:start + CHUNK_LINES], prefilter, handed)]
    datas: list[bytes] = list(map(_DATA, pushes))
    out = [DECLINED] * len(lines)
    read = [i for i, data in enumerate(datas) if data and data.isascii()]
    entries = _read_array(decode_entries, [datas[i] for i in read])
    if entries is None:
        entries = [_entry(datas[i]) for i in read]
    for i, found in zip(read, judge_all(entries, reduced), strict=True):
        out[i] = found
        if found == CANDIDATE:
            handed[id(lines[i])] = (lines[i], datas[i])
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
