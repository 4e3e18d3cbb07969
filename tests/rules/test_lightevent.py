"""The light decode behind the prefilter: the whole JSON lines of a read buffer are accepted in
one call only when every line is one well-typed audit Event; anything else answers None (the
reader then reads them line by line)."""

from __future__ import annotations

from typing import Any

import pytest

from kubetrail.rules.lightevent import LightDecoder

EVENT = b'{"kind":"Event","verb":"create","objectRef":{"resource":"daemonsets"}}'
DECODER = LightDecoder(["verb", "resource"])


def decode(lines: bytes, decoder: LightDecoder = DECODER) -> list[Any] | None:
    """decode_buffer on a read buffer as the block reader fills it: "[" and then the bytes."""
    return decoder.decode_buffer(bytearray(b"[" + lines))


def test_a_block_of_events_decodes_to_one_light_event_per_line() -> None:
    block = (EVENT + b"\n" + b'{"kind":"Event","verb":"get"}\r\n'
             + b'{"verb":"list","kind":"Event"}\n')
    got = decode(block + b'{"kind":"Event","verb":"cut at the end of the buf')
    assert got is not None
    assert [(e.verb, e.objectRef.resource) for e in got] == [
        ("create", "daemonsets"), ("get", None), ("list", None)]


@pytest.mark.parametrize(("name", "block"), [
    ("two values on one line", EVENT + b"," + EVENT + b"\n"),
    ("two values, no comma", EVENT + b" " + EVENT + b"\n"),
    ("blank line", EVENT + b"\n\n" + EVENT + b"\n"),
    ("blank line last", EVENT + b"\n\n"),
    ("whitespace line", EVENT + b"\n   \n"),
    ("cut line", EVENT + b"\n" + EVENT[:30] + b"\n"),
    ("not ASCII", EVENT[:-1] + b',"x":"\xc3\xa9"}\n'),
    ("invalid UTF-8", EVENT[:-1] + b',"x":"\xff"}\n'),
    ("Panther log", EVENT[:-1] + b',"p_log_type":"Amazon.EKS.Audit"}\n'),
    ("null p_log_type", EVENT[:-1] + b',"p_log_type":null}\n'),
    ("another kind", b'{"kind":"Pod","verb":"get"}\n'),
    ("no kind", b'{"verb":"get"}\n'),
    ("awslogs envelope", b'{"awslogs":{"data":"H4sI"}}\n'),
    ("a JSON array line", b"[" + EVENT + b"]\n"),
    ("verb a number", b'{"kind":"Event","verb":42}\n'),
    ("objectRef a list", b'{"kind":"Event","objectRef":[]}\n'),
    ("objectRef null", b'{"kind":"Event","objectRef":null}\n'),
    ("resource a number", b'{"kind":"Event","objectRef":{"resource":7}}\n'),
    # A line split in two where a comma would join its halves, balanced by a line holding two
    # Events: as many Events as lines, yet every line after the split would be shifted.
    ("split and doubled", EVENT[:-2] + b',"x":[1\n2]}}\n' + EVENT + b"\n" + EVENT + b","
     + EVENT + b"\n"),
    ("split twice and tripled", EVENT[:-2] + b',"x":[[{}\n{}],\n[{}]]}}\n' + EVENT + b","
     + EVENT + b"," + EVENT + b"\n"),
    ("nested deeper than the parser recurses", EVENT[:-1] + b',"x":' + b"[" * 5000
     + b"]" * 5000 + b"}\n"),
])
def test_anything_but_well_typed_audit_events_is_refused(name: str, block: bytes) -> None:
    assert decode(EVENT + b"\n" + block) is None


def test_a_buffer_without_a_whole_line_is_refused() -> None:
    assert decode(b"") is None
    assert decode(EVENT) is None


def test_only_the_required_fields_are_read() -> None:
    # namespace is no rule's requirement here: its type is the full decoder's business
    block = b'{"kind":"Event","objectRef":{"namespace":5,"resource":"pods"}}\n'
    assert decode(block) is not None
    assert decode(block, LightDecoder(["namespace"])) is None


def test_escapes_and_duplicated_keys_read_as_the_full_decoder_reads_them() -> None:
    got = decode(b'{"kind":"Ev\\u0065nt","verb":"get","verb":"cr\\u0065ate"}\n')
    assert got is not None and got[0].verb == "create"


def test_unknown_fields_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="user"):
        LightDecoder(["user"])


def _fields(ev: Any) -> dict[str, Any]:
    """A light event's fields but kind and p_log_type, nested structs as dicts."""
    import msgspec

    fields = msgspec.to_builtins(ev)
    return {k: v for k, v in fields.items() if k not in ("kind", "p_log_type")}


_READ = [EVENT, EVENT.decode(), EVENT + b"\n", b"  " + EVENT + b"\r\n", EVENT.decode() + "\n",
         '{"kind":"Event","verb":"cr\u00e9ate","objectRef":{"resource":"d\u00e6monsets"}}',
         b'{"kind":"Ev\\u0065nt","verb":"get","verb":"create"}']
_UNREAD = [
    "\ufeff" + EVENT.decode(), '{"kind":"Event","verb":"\\ud800"}',
    b'{"kind":"Event","kind":"Pod","verb":"get"}', b'{"kind":"Pod","verb":"get"}',
    # (the lenient decode reads this one as an audit Event: the strict one refuses it, which
    # only sends it the full way)
    b'{"kind":"Pod","kind":"Event"}',
    b'{"verb":"get"}', b'{"kind":null}', b'{"kind":"event"}',
    EVENT[:-1] + b',"p_log_type":"Amazon.EKS.Audit"}', EVENT[:-1] + b',"p_log_type":null}',
    b'{"kind":"Event","verb":42}', b'{"kind":"Event","objectRef":null}',
    EVENT[:30], EVENT + b"\n" + EVENT, b"[" + EVENT + b"]", b"", b"null",
    EVENT[:-1] + b',"x":' + b"[" * 5000 + b"]" * 5000 + b"}",
]


@pytest.mark.parametrize(("text", "read"), [(t, True) for t in _READ]
                         + [(t, False) for t in _UNREAD])
def test_the_strict_event_decode_reads_what_the_lenient_one_reads_as_an_audit_event(
        text: bytes | str, read: bool) -> None:
    """What decode_event (an Event Hub record's log) reads, decode_line reads as one audit Event
    (kind "Event", no p_log_type), to the same fields; anything else it refuses."""
    decoder = LightDecoder(["verb", "resource"])
    try:
        lenient = decoder.decode_line(text)
    except Exception:
        lenient = None
    try:
        strict = decoder.decode_event(text)
    except Exception:
        assert not read
        return
    assert read
    assert lenient is not None and lenient.kind == "Event"
    assert lenient.p_log_type is decoder.unset
    assert _fields(strict) == _fields(lenient)
