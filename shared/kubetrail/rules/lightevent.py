"""The light decode behind the prefilter: of an audit Event, only the fields the rules' Requires
name (verb, objectRef.resource/subresource/namespace/apiGroup, user.username,
responseStatus.code, sourceIPs, and requestObject as its undecoded JSON text), typed, without
building the rest.

The types are made per rule set (a field no rule requires is neither allocated nor checked), in
two strictnesses over the same fields:

* `decode_line(text)` reads one JSON text leniently: `kind` and `p_log_type` as whatever they
  hold, so the caller can tell an audit Event from anything else;
* `decode_event(text)` reads one JSON text as strictly as a block line: one audit Event with
  well-typed fields, else a decode error (an Event Hub record's log, see sources/eventhub_fast.py);
* `decode_buffer(buffer)` reads the whole JSON lines of a read buffer in one call, as one JSON
  array, and accepts them only when every line is exactly one audit Event (`kind` "Event", no
  `p_log_type`) whose required fields have the types the normalizer accepts. Anything else (a
  blank or cut line, a Panther log, another format, a wrong type, non-ASCII bytes) answers None
  and the caller reads the lines one by one, so a block decodes to the same decisions as its
  lines would.

Block alignment: the lines become the elements of one JSON array, each wrapped as
`{"<nonce>": line}` with a random key made per process. A line that is not one JSON value by
itself can only merge with its neighbours (the array then has fewer elements than lines: refused);
it cannot add an element, as that would take spelling the unknowable key. So element i is line i,
whatever punctuation the lines hold.

Both are real JSON parsers (msgspec): escapes, nulls and duplicated keys mean what they mean to the
full decoder (a duplicated key counts with its last value). Non-ASCII blocks are refused because
msgspec does not check the UTF-8 of strings it skips.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any, Literal

import msgspec

from kubetrail.rules.lightfields import FIELDS, REF_KEYS

__all__ = ["UNSET", "LightDecodeError", "LightDecoder"]
LightDecodeError = msgspec.DecodeError
UNSET = msgspec.UNSET
# The key wrapping each line of a block; unguessable, so no line can spell an element boundary.
_NONCE = "k" + os.urandom(12).hex()  # secrets.token_hex, without importing hashlib
_OPEN = b'[{"' + _NONCE.encode() + b'":'
_SEPARATOR = b'},\n{"' + _NONCE.encode() + b'":'
_CLOSE = b"}]"
_NEWLINE, _BRACKET = ord("\n"), ord("[")
_UNWRAP = attrgetter("e")
_NO_BODY = msgspec.Raw()


class LightDecoder:
    """Decoders of the light event for one set of Requires fields."""

    unset = UNSET  # what a light event holds for a field its text does not have

    def __init__(self, fields: Iterable[str]) -> None:
        wanted = set(fields)
        if unknown := wanted - FIELDS:
            raise ValueError(f"no light decode for fields {sorted(unknown)}")
        ref_fields = [(key, str | None, None) for f, key in REF_KEYS.items() if f in wanted]
        body: list[tuple[str, Any, Any]] = []
        if "verb" in wanted:
            body.append(("verb", str | None, None))
        # As the normalizer has them: a missing user or responseStatus reads as an empty one; a
        # null user is a failure there, a decode error here (so the full decoder reports it);
        # a null responseStatus is a decode error here too (rare: the full decoder decides).
        if "username" in wanted:
            user = msgspec.defstruct("LightUser", [("username", str | None, None)], gc=False)
            body.append(("user", user, msgspec.field(default_factory=user)))
        if "response_code" in wanted:
            status = msgspec.defstruct("LightStatus", [("code", int | None, None)], gc=False)
            body.append(("responseStatus", status, msgspec.field(default_factory=status)))
        if "source_ips" in wanted:
            body.append(("sourceIPs", list[str] | None, None))
        if "request_object" in wanted:
            # The body's JSON text, not decoded (what a duplicated key holds last; empty when
            # absent): the prefilter looks for the keys a rule requires in it.
            body.append(("requestObject", msgspec.Raw, _NO_BODY))
        if ref_fields:
            # An absent objectRef reads as an empty one (so objectRef.resource is None, as the
            # normalizer has it); a null one is a decode error and goes to the full decoder.
            ref = msgspec.defstruct("LightObjectRef", ref_fields, gc=False)
            body.append(("objectRef", ref, msgspec.field(default_factory=ref)))
        line = msgspec.defstruct(
            "LightEvent", [("kind", Any, None), *body, ("p_log_type", Any, UNSET)], gc=False)
        block = msgspec.defstruct(
            "LightAuditEvent",
            [("kind", Literal["Event"]), *body, ("p_log_type", msgspec.UnsetType, UNSET)],
            gc=False)
        self.decode_line: Callable[[bytes | str], Any] = msgspec.json.Decoder(line).decode
        self.decode_event: Callable[[bytes | str], Any] = msgspec.json.Decoder(block).decode
        wrapper = msgspec.defstruct("LightLine", [("e", block)], rename={"e": _NONCE}, gc=False)
        self._decode_array: Callable[[bytes | bytearray], list[Any]] = \
            msgspec.json.Decoder(list[wrapper]).decode  # type: ignore[valid-type]

    def decode_buffer(self, buffer: bytearray) -> list[Any] | None:
        """The light events of the whole JSON lines in `buffer`, or None unless every one of
        them is one well-typed audit Event. buffer[0] is "[", reserved for this decode; then
        come the lines; what follows the last newline (a line not read to its end) is ignored."""
        if not buffer.isascii():
            return None
        # One JSON array, a wrapped line per element (see the module docstring): each newline
        # becomes a separator (one copy), buffer[0] too for the while, and that first separator
        # is cut to the opener in place (cutting at the front moves no byte).
        buffer[0] = _NEWLINE
        try:
            array = buffer.replace(b"\n", _SEPARATOR)
        finally:
            buffer[0] = _BRACKET
        lines = (len(array) - len(buffer)) // (len(_SEPARATOR) - 1) - 1  # (count is slow)
        close = array.rfind(_SEPARATOR)
        if close <= 0:
            return None
        del array[close:]
        array += _CLOSE
        array[:len(_SEPARATOR)] = _OPEN
        try:
            wrapped = self._decode_array(array)
        except Exception:  # a decode error, or RecursionError on deep nesting
            return None
        return list(map(_UNWRAP, wrapped)) if len(wrapped) == lines else None
