"""GKE deliveries: a Log Router sink publishes each LogEntry as one Pub/Sub message.

- Push: `{"message": {"data": base64, "messageId", "attributes", "publishTime"},
  "subscription"}`; pull / bare: `{"data": base64, "messageId", ...}`.
- Eventarc CloudEvent: `data` is the push body above (type
  `google.cloud.pubsub.topic.v1.messagePublished`), or the LogEntry itself (type
  `google.cloud.audit.log.v1.written`); `data` may also arrive as JSON bytes or text, or as
  `data_base64`.

The message data is the LogEntry's JSON (gzip is inflated if a producer compressed it, bounded
by max_inflate). The prefilter sees those bytes before they are parsed. The message id, when
there is one, is appended to the origin. A message without data → Skip("empty"); data that is a
JSON array yields one Outcome per LogEntry in it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from kubetrail import record as records
from kubetrail.errors import DecodeError, Origin
from kubetrail.sources.base import Failure, Outcome, Prefiltered, Skip
from kubetrail.sources.common import (
    DEFAULT_MAX_INFLATE,
    GZIP_MAGIC,
    b64decode,
    check_max_inflate,
    cut,
    describe_keys,
    inflate,
    is_json_object,
    is_mapping,
    loads,
    type_name,
)
from kubetrail.sources.gke import decode_log_entry
from kubetrail.sources.guard import isolated_stream
from kubetrail.sources.rawdump import dump

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter


@isolated_stream
def decode_log_entry_bytes(
    data: bytes, origin: Origin, prefilter: Prefilter | None = None,
    *, max_inflate: int = DEFAULT_MAX_INFLATE,
) -> Iterator[Outcome]:
    """LogEntry JSON bytes (possibly gzip) → Outcomes."""
    check_max_inflate(max_inflate)
    try:
        if data.startswith(GZIP_MAGIC):
            data = inflate(data, max_inflate)
        if prefilter is not None and is_json_object(data) and not prefilter.may_match(data):
            yield Prefiltered(origin)
            return
        entry = loads(data, "LogEntry JSON")
    except DecodeError as exc:
        yield Failure(exc.message, origin, cut(data))
        return
    if type(entry) is list:
        for i, item in enumerate(entry):
            yield decode_log_entry(item, origin.child(f"[{i}]"))
    else:
        yield decode_log_entry(entry, origin)


@isolated_stream
def decode_pubsub_message(
    msg: Mapping[str, Any], origin: Origin, prefilter: Prefilter | None = None,
    *, max_inflate: int = DEFAULT_MAX_INFLATE,
) -> Iterator[Outcome]:
    """Decode a Pub/Sub push body or a pulled (bare) message."""
    check_max_inflate(max_inflate)
    if not is_mapping(msg):
        yield Failure(f"Pub/Sub message: expected an object, got {type_name(msg)}", origin,
                      cut(dump(msg)))
        return
    inner = msg.get("message", msg)
    if not is_mapping(inner):
        yield Failure(f"message: expected an object, got {type_name(inner)}", origin,
                      cut(dump(msg)))
        return
    message_id = inner.get("messageId") or inner.get("message_id")
    if type(message_id) is str:
        origin = origin.child(message_id)
    data = inner.get("data")
    if data is None or data == "":
        yield Skip("empty", origin)
        return
    try:
        raw = b64decode(data, "message.data")
    except DecodeError as exc:
        yield Failure(exc.message, origin, cut(dump(msg)))
        return
    yield from decode_log_entry_bytes(raw, origin, prefilter, max_inflate=max_inflate)


_PUSH_KEYS = frozenset({"message", "subscription"})
# The message data pubsub_batch base64-decoded for the candidate lines of its last batch, by the
# identity of the line (held here, so that the identity cannot be reused while it is kept).
_HANDED: list[dict[int, tuple[bytes, bytes]]] = [{}]


def hand_over(decoded: dict[int, tuple[bytes, bytes]]) -> None:
    """Keep `decoded` ({id(line): (line, its message data base64-decoded)}) for push_line, in
    place of the previous batch's. The decode must be common.b64decode's, byte for byte."""
    _HANDED[0] = decoded


def _handed_data(line: bytes) -> bytes | None:
    kept = _HANDED[0].get(id(line))
    return kept[1] if kept is not None and kept[0] is line else None


def push_line(line: bytes, origin: Origin) -> Outcome | None:
    """The one outcome of a line holding one Pub/Sub push body of one LogEntry (as a GKE sink
    delivers it), decoded without prefilter: exactly what detect.decode_line's full path makes
    of it (the same parses and checks, in the same order, without the generator layers of its
    dispatch), or None for any other line, or one whose decoding fails or raises here, which
    the caller then decodes the full way (so every failure keeps its full-path reason)."""
    try:
        doc = loads(line)
        if type(doc) is not dict or not doc.keys() <= _PUSH_KEYS:
            return None  # (another key may send the document elsewhere in the dispatch)
        inner = doc.get("message")
        if type(inner) is not dict or "data" not in inner:
            return None
        data = inner["data"]
        if type(data) is not str or not data:
            return None
        message_id = inner.get("messageId") or inner.get("message_id")
        here = origin.child(message_id) if type(message_id) is str else origin
        entry_text = _handed_data(line)
        if entry_text is None:
            entry_text = b64decode(data, "message.data")
        if entry_text.startswith(GZIP_MAGIC):
            return None
        entry = loads(entry_text, "LogEntry JSON")
    except Exception:  # (a DecodeError, MemoryError...: the full path says what)
        return None
    if type(entry) is not dict:
        return None
    outcome = decode_log_entry(entry, here)
    if type(outcome) is Failure and outcome.origin == origin:  # as detect._decode_line does
        outcome = records.replace(outcome, raw=cut(line.rstrip()))
    return outcome


@isolated_stream
def decode_cloudevent(
    ce: Mapping[str, Any], origin: Origin, prefilter: Prefilter | None = None,
    *, max_inflate: int = DEFAULT_MAX_INFLATE,
) -> Iterator[Outcome]:
    """Decode an Eventarc CloudEvent (structured JSON form, or as functions_framework hands it)
    carrying a Pub/Sub message or an audit LogEntry."""
    check_max_inflate(max_inflate)
    try:
        if not is_mapping(ce):
            raise DecodeError(f"CloudEvent: expected an object, got {type_name(ce)}")
        data = ce.get("data")
        if data is None and "data_base64" in ce:
            data = b64decode(ce["data_base64"], "data_base64")
        if isinstance(data, bytes | bytearray | str):
            if not isinstance(data, str) and bytes(data).startswith(GZIP_MAGIC):
                data = inflate(bytes(data), max_inflate)
            data = loads(data, "CloudEvent data JSON")
        if not is_mapping(data):
            raise DecodeError(f"CloudEvent data: expected an object, got {type_name(data)}")
    except DecodeError as exc:
        yield Failure(exc.message, origin, cut(dump(ce)))
        return
    if "message" in data:
        yield from decode_pubsub_message(data, origin, prefilter, max_inflate=max_inflate)
    elif "protoPayload" in data or "logName" in data:
        yield decode_log_entry(data, origin)
    else:
        yield Failure("CloudEvent data holds neither a Pub/Sub message nor a LogEntry (keys "
                      f"{describe_keys(data)})", origin, cut(dump(ce)))
