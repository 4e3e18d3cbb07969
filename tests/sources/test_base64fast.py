"""The fast strict base64 answers what binascii's strict decode answers, or refuses (None): with
pybase64, without it, and with a decoder more lenient than either plugged in."""

from __future__ import annotations

import base64
import binascii
import itertools
import random
from collections.abc import Iterator

import pytest

from kubetrail.sources import base64fast
from kubetrail.sources.base64fast import strict_b64decode, strict_b64decode_all


def strict(text: bytes) -> bytes | None:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        return None


def variants() -> Iterator[bytes]:
    """Every text of up to 6 characters over base64 letters, padding and strays, then longer
    real encodings with one character changed, added or removed."""
    for n in range(6):
        yield from map(bytes, itertools.product(b"AQR/+=- \n", repeat=n))
    rng = random.Random(4)
    for size in range(1, 200, 7):
        good = base64.b64encode(rng.randbytes(size))
        yield good
        for _ in range(20):
            i = rng.randrange(len(good) + 1)
            c = rng.choice(b"A/+=-_ \n\\\x00\xff")
            yield good[:i] + bytes([c]) + good[i:]
            yield good[:i] + bytes([c]) + good[i + 1:]
            yield good[:i] + good[i + 1:]


@pytest.fixture(params=["installed", "absent"])
def codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "absent":
        monkeypatch.setattr(base64fast, "_codec", [None])
    else:
        assert base64fast.has_fast_base64(), "pybase64 is a core dependency (pyproject)"
    return str(request.param)


def test_answers_are_binascii_strict_answers_or_refusals(codec: str) -> None:
    answered = 0
    for text in variants():
        found = strict_b64decode(text)
        expected = strict(text)
        if found is None:  # refused: only what is not the canonical encoding of its bytes
            assert expected is None or base64.b64encode(expected) != text, text
        else:
            answered += 1
            assert found == expected, text
        assert strict_b64decode(memoryview(b"x" + text + b"y")[1:-1]) == found
    assert answered > 500


def test_canonical_encodings_are_never_refused(codec: str) -> None:
    rng = random.Random(2)
    texts = [base64.b64encode(rng.randbytes(rng.randrange(0, 3000))) for _ in range(300)]
    assert strict_b64decode_all(texts) == [base64.b64decode(t) for t in texts]


def test_a_batch_with_one_bad_text_answers_each_alone(codec: str) -> None:
    rng = random.Random(3)
    texts: list[bytes | memoryview] = [base64.b64encode(rng.randbytes(50)) for _ in range(40)]
    for bad in (b"QR==", b"QUJD=", b"!!!!", b"QQ", b"\\u0041AAA", b"QQ==QQ=="):
        batch = [*texts[:20], bad, *texts[20:]]
        assert strict_b64decode_all(batch) == list(map(strict_b64decode, batch))
        assert strict_b64decode_all(batch)[20] in (strict(bad), None)


def test_a_lenient_decoder_plugged_in_changes_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the installed decoder accepts, re-encoding proves the answer (here binascii's
    lenient decode, which drops stray characters and reads any padding)."""
    def lenient(text: bytes, altchars: None = None, validate: bool = False) -> bytes:
        return binascii.a2b_base64(bytes(text))

    monkeypatch.setattr(base64fast, "_codec", [(lenient, base64.b64encode)])
    texts = list(variants())
    singles = list(map(strict_b64decode, texts))
    for text, found in zip(texts, singles, strict=True):
        assert found is None or found == strict(text), text
    assert strict_b64decode_all(texts) == singles
    assert strict_b64decode(b"QU!JD") is None and strict_b64decode(b"QUJD") == b"ABC"


def test_msgspec_reads_base64_as_binascii_strict_does_or_refuses() -> None:
    """sources/pubsub_batch.py lets msgspec decode message.data (a `bytes` field): what it
    accepts must be what the full decoder (a JSON string, then binascii's strict decode)
    accepts, with the same bytes; escapes in the string are read first, as orjson reads them."""
    import msgspec
    import orjson

    class Message(msgspec.Struct):
        data: bytes

    decode = msgspec.json.Decoder(Message).decode
    checked = 0
    texts = [orjson.dumps({"data": t.decode("latin-1")}) for t in variants()]
    texts += [b'{"data":"QUJ\\u0044"}', b'{"data":"QU\\/D"}', b'{"data":"\\u0051UJD"}',
              b'{"data":"QUJD\\n"}', b'{"data":"QUJD\\u0000"}']
    for text in texts:
        try:
            found: bytes | None = decode(text).data
        except msgspec.ValidationError:
            found = None
        value = orjson.loads(text)["data"]
        expected = strict(value.encode()) if value.isascii() else None
        assert found is None or found == expected, text
        checked += found is not None
    assert checked > 500
