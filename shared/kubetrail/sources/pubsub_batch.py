"""Pub/Sub push bodies judged a batch at a time: pubsub_fast.py's decisions for many lines, in a
few C-level calls instead of several Python steps per line.

`push_verdicts(lines, prefilter)` answers, per line, PREFILTERED (no rule can match its entry),
CANDIDATE (its entry was read and some rule may match it: decode it fully, without the
prefilter) or DECLINED (decode it the full way, prefilter included). A line is PREFILTERED or
CANDIDATE here only when pubsub_fast.verdict would answer the same for it alone; everything the
batch cannot prove goes to that per-line path, so a batch decides exactly as its lines would.

* Each push body is read by itself, with pubsub_fast's types, in one C-level pass over the batch
  (map of msgspec's decode; no copy of the lines); a batch with a line that is not ASCII
  (msgspec does not check the UTF-8 of what it skips) or that the decode refuses is read line
  by line, and such a line is DECLINED.
* `message.data` is base64-decoded by msgspec in the same call, as in pubsub_fast (a `bytes`
  field: what binascii's strict decode answers, or a refusal, which declines the line).
* The LogEntries whose data is ASCII are light-decoded the same way, with pubsub_fast's types;
  the others are DECLINED.
* The entries are judged in C-level passes over columns of their values (gke_verdicts.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from functools import partial
from itertools import compress, count, repeat
from operator import attrgetter, eq, is_not
from typing import TYPE_CHECKING, Any

import msgspec

from kubetrail.sources.gke_verdicts import CANDIDATE, DECLINED, PREFILTERED, judge_all
from kubetrail.sources.pubsub import hand_over
from kubetrail.sources.pubsub_fast import NO_BODY, Auth, Meta, Status, gke_prefilter

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

__all__ = ["CANDIDATE", "DECLINED", "PREFILTERED", "push_verdicts"]


class _PushMessage(msgspec.Struct, gc=False):
    data: bytes = b""  # (as pubsub_fast: a missing data is empty; the message id, which only
    # a Prefiltered line's origin shows and a batch's runs do not, is skipped like any field)


class _Push(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    message: _PushMessage
    subscription: Any = None


# pubsub_fast's LogEntry fields and types (null is None), but a missing struct reads as an
# empty one, so that every column is one attrgetter.
class _Proto(msgspec.Struct, gc=False):
    serviceName: Any = None
    methodName: str | None = None
    authenticationInfo: Auth | None = msgspec.field(default_factory=Auth)
    requestMetadata: Meta | None = msgspec.field(default_factory=Meta)
    status: Status | None = msgspec.field(default_factory=Status)
    request: msgspec.Raw = NO_BODY


class _Entry(msgspec.Struct, gc=False):
    protoPayload: _Proto | None = msgspec.field(default_factory=_Proto)


@functools.cache
def _decoders() -> tuple[Callable[[bytes], Any], Callable[[bytes], Any]]:
    return msgspec.json.Decoder(_Push).decode, msgspec.json.Decoder(_Entry).decode  # (first use)


_DATA = attrgetter("message.data")


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
    if reduced is None or not lines:
        return [DECLINED] * len(lines)
    decode_push, decode_entry = _decoders()
    pushes, whole = _read_all(decode_push, lines)
    datas: list[Any]  # (bytes, None for a line not read)
    if whole:
        datas = list(map(_DATA, pushes))
    else:  # (a line not read: DECLINED)
        datas = [None if push is None else push.message.data for push in pushes]
    read = list(compress(count(), datas))  # (a missing or empty data: DECLINED)
    entries, whole = _read_all(decode_entry, list(map(datas.__getitem__, read)))
    if not whole:  # (an entry not read: DECLINED)
        read = list(compress(read, map(is_not, entries, repeat(None))))
        entries = [entry for entry in entries if entry is not None]
    found = judge_all(entries, reduced)
    if len(read) == len(lines):
        out = found
    else:
        out = [DECLINED] * len(lines)
        for i, verdict_i in zip(read, found, strict=True):
            out[i] = verdict_i
    for i in compress(read, map(eq, found, repeat(CANDIDATE))):
        handed[id(lines[i])] = (lines[i], datas[i])
    return out


def _read_all(decode: Callable[[bytes], Any], texts: list[bytes] | Sequence[bytes]
              ) -> tuple[list[Any], bool]:
    """decode(text) of each text, None for a text that is not ASCII (msgspec does not check the
    UTF-8 of what it skips) or that decode refuses; and whether every text was read (then in one
    C-level pass)."""
    try:
        if all(map(bytes.isascii, texts)):
            return list(map(decode, texts)), True
    except Exception:  # a decode error, RecursionError on deep nesting, ...: each alone
        return list(map(partial(_read_one, decode), texts)), False
    return list(map(partial(_read_one, decode), texts)), False


def _read_one(decode: Callable[[bytes], Any], text: bytes) -> Any:
    if not text.isascii():
        return None
    try:
        return decode(text)
    except Exception:  # (a decode error: pubsub_fast declines it too)
        return None
