"""Text-level mutations of JSON, as an attacker who controls part of an audit record (a name, a
label, a custom resource's body) or a whole file can spell it.

`preserving` mutations change the spelling but not the meaning (escapes anywhere, whitespace):
whatever kubetrail finds must not change. `hostile` ones change the meaning or break the text
(deep nesting, huge arrays, duplicated keys, odd numbers, wrong types, cuts, stray bytes)."""

from __future__ import annotations

import random
from collections.abc import Iterator

WS = b" \t\r\n"
SHORT_ESCAPES = {"\"": "\"", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n",
                 "r": "\r", "t": "\t"}


def string_spans(text: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each JSON string literal's contents (quotes excluded)."""
    i, n = 0, len(text)
    while i < n:
        if text[i] == 0x22:
            start = i + 1
            i += 1
            while i < n and text[i] != 0x22:
                i += 2 if text[i] == 0x5C else 1
            yield start, min(i, n)
        i += 1


def escape_chars(text: bytes, rng: random.Random, rate: float, *, plain_rate: float | None = None
                 ) -> bytes:
    """Spell randomly chosen characters of string literals (keys included) as \\uXXXX (a
    surrogate pair above the BMP), and short escapes (\\" \\\\ \\n ...) as their \\uXXXX
    form. `plain_rate` (default `rate`) applies to characters that were not escaped: 0 re-spells
    only existing escapes, the spelling a byte-level view of nested JSON is most likely to miss."""
    plain_rate = rate if plain_rate is None else plain_rate
    out, last = bytearray(), 0
    for start, end in string_spans(text):
        out += text[last:start]
        chunk = text[start:end].decode("utf-8", "surrogatepass")
        i, pieces = 0, []
        while i < len(chunk):
            c = chunk[i]
            if c == "\\":  # an escape sequence: kept, or a short one re-spelled as \\uXXXX
                seq_len = 6 if chunk[i + 1:i + 2] == "u" else 2
                seq = chunk[i:i + seq_len]
                meant = SHORT_ESCAPES.get(seq[1:2]) if seq_len == 2 else None
                if meant is not None and rng.random() < rate:
                    seq = f"\\u{ord(meant):04x}"
                pieces.append(seq)
                i += seq_len
                continue
            if rng.random() < plain_rate:
                code = ord(c)
                if code > 0xFFFF:
                    code -= 0x10000
                    pieces.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
                else:
                    pieces.append(f"\\u{code:04x}" if rng.random() < 0.5 else f"\\u{code:04X}")
            else:
                pieces.append(c)
            i += 1
        out += "".join(pieces).encode("utf-8", "surrogatepass")
        last = end
    out += text[last:]
    return bytes(out)


def add_whitespace(text: bytes, rng: random.Random) -> bytes:
    """Insert JSON whitespace after structural characters outside strings."""
    out, in_string, escaped = bytearray(), False, False
    for b in text:
        out.append(b)
        if in_string:
            if escaped:
                escaped = False
            elif b == 0x5C:
                escaped = True
            elif b == 0x22:
                in_string = False
        elif b == 0x22:
            in_string = True
        elif b in b"{}[],:" and rng.random() < 0.3:
            out += bytes(rng.choice(WS) for _ in range(rng.randint(1, 3)))
    return bytes(out)


def value_positions(text: bytes) -> list[int]:
    """Offsets right after a `:` outside strings: where an object member's value starts."""
    positions, in_string, escaped = [], False, False
    for i, b in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif b == 0x5C:
                escaped = True
            elif b == 0x22:
                in_string = False
        elif b == 0x22:
            in_string = True
        elif b == 0x3A:
            positions.append(i + 1)
    return positions


def _value_end(text: bytes, start: int) -> int:
    """End offset of the JSON value starting at `start` (after optional whitespace)."""
    i = start
    while i < len(text) and text[i] in WS:
        i += 1
    depth, in_string, escaped = 0, False, False
    j = i
    while j < len(text):
        b = text[j]
        if in_string:
            if escaped:
                escaped = False
            elif b == 0x5C:
                escaped = True
            elif b == 0x22:
                in_string = False
                if depth == 0:
                    return j + 1
        elif b == 0x22:
            in_string = True
        elif b in b"{[":
            depth += 1
        elif b in b"}]":
            if depth == 0:
                return j
            depth -= 1
            if depth == 0:
                return j + 1
        elif b == 0x2C and depth == 0:
            return j
        j += 1
    return j


def replace_value(text: bytes, rng: random.Random, new: bytes) -> bytes:
    """Replace one randomly chosen member value with `new`."""
    positions = value_positions(text)
    if not positions:
        return text
    start = rng.choice(positions)
    return text[:start] + new + text[_value_end(text, start):]


def deep(depth: int, opener: bytes = b"[") -> bytes:
    closer = b"]" if opener == b"[" else b"}"
    if opener == b"{":
        return b'{"a":' * depth + b"1" + closer * depth
    return opener * depth + closer * depth


ODD_NUMBERS = (b"1e400", b"-1e400", b"-0", b"1E+2", b"0.0000", b"123456789012345678901234567890",
               b"-9223372036854775809", b"1.7976931348623157e309", b"5e-324")
WRONG_TYPES = (b"null", b"true", b"0", b"-1", b'""', b"[]", b"{}", b'"x"', b"[null]",
               b'{"": null}', b"1.5")


def duplicate_key(text: bytes, rng: random.Random) -> bytes:
    """Insert a second member with an existing key right after an object opens."""
    positions = value_positions(text)
    if not positions:
        return text
    colon = rng.choice(positions) - 1
    key_end = text.rfind(b'"', 0, colon)
    key_start = text.rfind(b'"', 0, key_end)
    if key_start < 0:
        return text
    key = text[key_start:key_end + 1]
    value = rng.choice((*WRONG_TYPES, b'"create"', b'"daemonsets"', b'"kube-system"'))
    return text[:key_start] + key + b":" + value + b"," + text[key_start:]


def hostile(text: bytes, rng: random.Random) -> bytes:
    """One meaning-changing or breaking mutation."""
    op = rng.randrange(9)
    if op == 0:
        return replace_value(text, rng, deep(rng.choice((100, 1000, 5000, 20000)),
                                             rng.choice((b"[", b"{"))))
    if op == 1:
        n = rng.choice((1000, 50_000, 300_000))
        return replace_value(text, rng, b"[" + b"{}," * n + b"{}]")
    if op == 2:
        return duplicate_key(text, rng)
    if op == 3:
        return replace_value(text, rng, rng.choice(ODD_NUMBERS))
    if op == 4:
        return replace_value(text, rng, rng.choice(WRONG_TYPES))
    if op == 5:
        return text[:rng.randrange(len(text) + 1)]
    if op == 6:
        i = rng.randrange(len(text) + 1)
        return text[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 4))) + text[i:]
    if op == 7:
        return b"\xef\xbb\xbf" + text
    return replace_value(text, rng, b'"' + rng.choice(
        ("\u202e", "\x9b", "\u2028", "\x1b[2J", "\\u0000", "\\ud800", "\ufeff")).encode(
            "utf-8", "surrogatepass") + b'"')


def preserving(text: bytes, rng: random.Random) -> bytes:
    """A re-spelling with the same meaning."""
    if rng.random() < 0.7:
        text = escape_chars(text, rng, rng.choice((0.02, 0.2, 1.0)))
    if rng.random() < 0.5:
        text = add_whitespace(text, rng)
    return text
