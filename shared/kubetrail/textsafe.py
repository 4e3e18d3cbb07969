"""Attacker-controlled text made safe for a terminal: one line, no escape sequences.

Usernames, object names and user agents come from whoever called the API server. Printed raw,
a C0/C1 control (ESC, CSI U+009B) drives the terminal, a bidi override or isolate
(U+202A-U+202E, U+2066-U+2069) reorders what the reader sees, and a line or paragraph separator
(U+2028/U+2029, NEL U+0085) splits one record into two. Each is shown as its `\\uXXXX` escape.
"""

from __future__ import annotations

import re

# C0, DEL + C1, bidi embeddings/overrides/isolates and marks, line/paragraph separators,
# zero-width and invisible format characters that can hide text.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def terminal_safe(text: str, limit: int | None = None) -> str:
    """`text` with every unsafe character escaped, cut to `limit` characters (with an ellipsis)
    when a limit is given."""
    cut = text if limit is None or len(text) <= limit else text[:limit]
    out = UNSAFE.sub(_escape, cut)
    return out + "…" if cut is not text else out
