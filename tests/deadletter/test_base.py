"""The dead-letter document every sink sends: text when the record is UTF-8, even when the cut
falls inside a character; base64 otherwise."""

from __future__ import annotations

import base64

from kubetrail.deadletter.base import MAX_RAW_BYTES, dead_letter_document
from kubetrail.errors import Origin
from kubetrail.sources.base import Failure

ORIGIN = Origin("/aws/eks/prod/cluster/kube-apiserver-audit-1", "3745")


def test_text_record_keeps_its_reason_origin_and_text() -> None:
    doc = dead_letter_document(Failure("invalid JSON: x", ORIGIN, b'{"verb":'))
    assert doc == {"reason": "invalid JSON: x", "source": ORIGIN.source, "position": "3745",
                   "raw_truncated": False, "raw": '{"verb":'}


def test_a_cut_inside_a_multibyte_character_stays_text() -> None:
    raw = b"a" * (MAX_RAW_BYTES - 1) + "é".encode() * 10  # the cut splits the first é
    doc = dead_letter_document(Failure("too big", ORIGIN, raw))
    assert doc["raw_truncated"] is True and "raw_base64" not in doc
    assert doc["raw"] == "a" * (MAX_RAW_BYTES - 1)


def test_binary_record_is_base64() -> None:
    raw = b"\x1f\x8b\x08\xff garbage"
    doc = dead_letter_document(Failure("not gzip", ORIGIN, raw))
    assert "raw" not in doc and base64.b64decode(doc["raw_base64"]) == raw
