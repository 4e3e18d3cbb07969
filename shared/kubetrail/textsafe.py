"""Attacker-controlled text made safe for a line-oriented terminal or log: one JSON line per
finding, one line per stderr message, nothing that moves the cursor, recolours the terminal,
reorders what is shown (bidi) or starts a new line for `str.splitlines()` or a log shipper.

The characters neutralized (`_UNSAFE_CHARS`): every C0 and C1 control (U+0000-U+001F,
U+007F-U+009F, NEL U+0085 included), the bidi marks, embeddings, overrides and isolates
(U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and the Unicode line and paragraph
separators U+2028/U+2029.
"""

from __future__ import annotations

import re

# The patterns are compiled on first use (by re's cache): not before the first finding.
_UNSAFE_CHARS = "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"

# The same characters as they appear in UTF-8. C0 controls are absent: orjson already writes
# them as \uXXXX. Every alternative starts at a UTF-8 lead byte (0xC2, 0xD8, 0xE2) or is ASCII,
# so in valid UTF-8 a match is always a whole character, never the tail of another one; and in
# JSON text non-ASCII characters occur only inside strings (keys or values), where \uXXXX is the
# same character.
_UNSAFE_UTF8 = (
    rb"\x7f|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xa8-\xae]|\xe2\x81[\xa6-\xa9]"
)


def _escape_utf8(match: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % ord(match.group().decode("utf-8"))


def safe_json_line(json_bytes: bytes) -> bytes:
    """Compact JSON (as orjson writes it: valid UTF-8, C0 controls already escaped) with every
    other unsafe character escaped as \\uXXXX, so the text is one line a terminal prints safely.
    The JSON value is unchanged: a parser reads the same strings back."""
    # Every alternative of the pattern is DEL or starts at a non-ASCII byte: ASCII text without
    # DEL (nearly every finding) has nothing to escape, and the regex would walk it byte by byte.
    if json_bytes.isascii() and b"\x7f" not in json_bytes:
        return json_bytes
    return re.sub(_UNSAFE_UTF8, _escape_utf8, json_bytes)


def escape_text(text: str) -> str:
    """`text` with each unsafe character written as a visible \\uXXXX (for messages that travel
    as plain strings: e-mail subjects, chat messages, log lines)."""
    return re.sub(_UNSAFE_CHARS, lambda m: f"\\u{ord(m.group()):04x}", text)


def safe_json_text(value: object) -> str:
    """`value` as one safe line of compact JSON (for printing a finding document)."""
    import orjson

    return safe_json_line(orjson.dumps(value)).decode("utf-8")


def terminal_safe(text: str, limit: int | None = None) -> str:
    """`escape_text(text)`, cut to `limit` characters (with an ellipsis) when a limit is given:
    for cells of the terminal table."""
    cut = text if limit is None or len(text) <= limit else text[:limit]
    return escape_text(cut) + ("…" if cut is not text else "")
