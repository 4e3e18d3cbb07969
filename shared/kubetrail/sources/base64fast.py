"""Strict base64 for the fast paths: binascii's strict decode at SIMD speed when the optional
pybase64 wheel is installed, binascii itself otherwise.

`strict_b64decode(text)` answers what `binascii.a2b_base64(text, strict_mode=True)` (the full
decoder's common.b64decode) answers for `text`, or None; None is a refusal the caller hands to
the full decoder, which then reports or accepts the text itself. With pybase64 the answer is
taken only when re-encoding it gives `text` back: `text` is then the canonical encoding of the
answer, which every strict decoder reads as exactly that answer. So whatever pybase64 accepts
on some platform or version (padding variants, stray characters, non-zero trailing bits), the
only effect of a disagreement is a refusal, never a different answer.

pybase64 (BSD-2-Clause) has wheels for CPython 3.11-3.13 on manylinux x86_64 and aarch64 (the
Lambda arm64 runtime), macOS and Windows; it is imported on first use, not at import time.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from itertools import repeat
from typing import Any

_Codec = tuple[Callable[..., bytes], Callable[..., bytes]] | None
_codec: list[_Codec] = []  # [(b64decode, b64encode)] or [None] once looked up


def _pybase64() -> _Codec:
    if not _codec:
        try:
            import pybase64  # (optional: imported on first use)
        except ImportError:
            _codec.append(None)
        else:
            _codec.append((pybase64.b64decode, pybase64.b64encode))
    return _codec[0]


def has_fast_base64() -> bool:
    """pybase64 is installed (the fast decoder is in use)."""
    return _pybase64() is not None


def strict_b64decode(text: bytes | memoryview) -> bytes | None:
    """binascii's strict decode of the ASCII base64 `text`, or None (refused: see the module doc).
    """
    codec = _pybase64()
    if codec is None:
        try:
            return binascii.a2b_base64(text, strict_mode=True)
        except binascii.Error:
            return None
    decode, encode = codec
    try:
        data = decode(text, None, True)
    except ValueError:  # (binascii.Error is a ValueError)
        return None
    return data if encode(data) == text else None


def strict_b64decode_all(texts: list[Any]) -> list[bytes | None]:
    """strict_b64decode of each text (bytes or memoryview), in as few Python steps as the
    installed decoder allows: the usual batch, all valid, is decoded and checked in C-level maps.
    """
    codec = _pybase64()
    if codec is not None:
        decode, encode = codec
        try:
            datas: list[bytes | None] = list(map(decode, texts, repeat(None), repeat(True)))
        except ValueError:
            return list(map(strict_b64decode, texts))
        # Every answer re-encodes to its text: the same lengths and the same concatenation
        # (two joins and one memcmp: comparing each bytes with a memoryview is 10x slower).
        encoded = list(map(encode, datas))
        if list(map(len, encoded)) == list(map(len, texts)) \
                and b"".join(encoded) == b"".join(texts):
            return datas
    return list(map(strict_b64decode, texts))
