"""The light decode behind the prefilter: of an audit Event, only the fields the rules' Requires
name (verb, objectRef.resource/subresource/namespace/apiGroup), typed, without building the rest.

The types are made per rule set (a field no rule requires is neither allocated nor checked), in
two strictnesses over the same fields:

* `decode_line(text)` reads one JSON text leniently: `kind` and `p_log_type` as whatever they
  hold, so the caller can tell an audit Event from anything else;
* `decode_block(block)` reads a run of JSON lines in one call, as one JSON array, and accepts it
  only when every line is exactly one audit Event (`kind` "Event", no `p_log_type`) whose
  required fields have the types the normalizer accepts. Anything else (a blank or cut line, a
  Panther log, another format, a wrong type, non-ASCII bytes) answers None and the caller reads
  the lines one by one, so a block decodes to the same decisions as its lines would.

Both are real JSON parsers (msgspec): escapes, nulls and duplicated keys mean what they mean to the
full decoder (a duplicated key counts with its last value). Non-ASCII blocks are refused because
msgspec does not check the UTF-8 of strings it skips.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any, Literal

import msgspec

# Requires field -> key in the Event's objectRef (verb is top level).
_REF_KEYS = {"resource": "resource", "subresource": "subresource", "namespace": "namespace",
             "api_group": "apiGroup"}
FIELDS = frozenset({"verb", *_REF_KEYS})
# Where each Requires field lives in a light event (an attrgetter path).
PATHS = {"verb": "verb", **{f: f"objectRef.{key}" for f, key in _REF_KEYS.items()}}
LightDecodeError = msgspec.DecodeError
UNSET = msgspec.UNSET
_NEWLINE = 10


class LightDecoder:
    """Decoders of the light event for one set of Requires fields."""

    def __init__(self, fields: Iterable[str]) -> None:
        wanted = set(fields)
        if unknown := wanted - FIELDS:
            raise ValueError(f"no light decode for fields {sorted(unknown)}")
        ref_fields = [(key, str | None, None) for f, key in _REF_KEYS.items() if f in wanted]
        body: list[tuple[str, Any, Any]] = []
        if "verb" in wanted:
            body.append(("verb", str | None, None))
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
        # Each line as a one-element array: a line holding two values fails the decode.
        self._decode_array: Callable[[bytes], list[tuple[Any]]] = \
            msgspec.json.Decoder(list[tuple[block]]).decode  # type: ignore[valid-type]

    def decode_block(self, block: bytes) -> list[Any] | None:
        """The light events of a run of JSON lines (`block` ends at a line end or at the end of
        the stream), or None unless every line is one well-typed audit Event."""
        if not block or not block.isascii():
            return None
        # Each line becomes a one-element array, so that a line holding two values fails the
        # decode: "[[" line "],[" line ... "]]", in one copy of the block (join takes the view).
        array = memoryview(block.replace(b"\n", b"],["))
        if block[-1] == _NEWLINE:
            array = array[:-3]  # no "],[" after the last line
        try:
            lines = self._decode_array(b"".join((b"[[", array, b"]]")))
        except msgspec.DecodeError:
            return None
        return list(chain.from_iterable(lines))
