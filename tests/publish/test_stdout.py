"""StdoutPublisher: one finding is one JSON line, whatever its strings hold; a terminal prints it
without being driven (no C0/C1 controls, bidi overrides or isolates, line separators raw)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import orjson
import pytest

from kubetrail.dedup.sqlite import SqliteDedupStore
from kubetrail.findings import Finding, build_finding
from kubetrail.publish.stdout import StdoutPublisher
from kubetrail.rules import RuleSet, load_rules
from tests.factories import T0, make_event

RULES = RuleSet(load_rules())
# Written out independently of kubetrail.textsafe: what must never reach a terminal raw.
UNSAFE_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
# CSI (U+009B) + SGR, NEL, RLO, LRI/PDI, LRM/RLM/ALM, the Unicode line/paragraph separators, DEL,
# ESC, and the C0 separators that str.splitlines() also breaks on.
HOSTILE = ("a\x9b31m\x85b\u202ec\u2066d\u2069\u200e\u200f\u061ce\u2028f\u2029g\x7fh\x1b[2J"
           "\x1c\x1d\x1e\x0b\x0ci\x80\x9fé€😀")
VISIBLE = "é€😀"


def finding(**overrides: Any) -> Finding:
    (match,), _ = RULES.evaluate(make_event(**overrides))
    claim = SqliteDedupStore().claim(match.dedup_key, T0, timedelta(minutes=60))
    return build_finding(match, claim, T0)


def published(*findings: Finding) -> bytes:
    stream = io.BytesIO()
    results = StdoutPublisher(stream).publish(findings)
    assert all(r.ok for r in results)
    return stream.getvalue()


@pytest.mark.parametrize("field", ["username", "user_agent", "name", "namespace"])
def test_hostile_characters_in_any_field_stay_one_escaped_line(field: str) -> None:
    f = finding(**{field: HOSTILE, "raw": {HOSTILE: HOSTILE}})
    out = published(f, finding(username="next"))
    text = out.decode("utf-8")
    lines = text.splitlines()
    assert len(lines) == 2 and text.endswith("\n") and text.count("\n") == 2
    assert UNSAFE_CHARS.search(text.replace("\n", "")) is None
    assert orjson.loads(lines[0]) == f.document  # the same strings, read back
    assert "\\u009b" in lines[0] and "\\u202e" in lines[0] and "\\u2028" in lines[0]
    assert VISIBLE in lines[0]  # printable non-ASCII stays as it is


def test_keys_are_escaped_too() -> None:
    from kubetrail.textsafe import safe_json_line

    body = orjson.dumps({HOSTILE: [HOSTILE, {"\u2028": "\u202e"}]})
    line = safe_json_line(body)
    assert orjson.loads(line) == orjson.loads(body)
    assert len(line.decode().splitlines()) == 1 and not UNSAFE_CHARS.search(line.decode())


def test_every_unsafe_code_point_is_escaped_and_nothing_else() -> None:
    from kubetrail.textsafe import safe_json_line

    every = "".join(map(chr, range(0x3000))) + "\U0001f600\ufeff"
    line = safe_json_line(orjson.dumps(every)).decode()
    assert orjson.loads(line) == every and len(line.splitlines()) == 1
    kept = {c for c in line}
    assert not any(UNSAFE_CHARS.match(c) for c in kept)
    assert all(chr(i) in kept for i in range(0xa0, 0x3000) if not UNSAFE_CHARS.match(chr(i))
               and chr(i) not in '"\\')


@pytest.mark.parametrize("text", ["plain ascii \x7f del", "\x7f", "ascii then \u2028", "é\x7f"])
def test_del_is_escaped_in_otherwise_ascii_text(text: str) -> None:
    # The ASCII fast path must still see DEL, the one unsafe character that is ASCII.
    from kubetrail.textsafe import safe_json_line

    line = safe_json_line(orjson.dumps({"k": text}))
    assert b"\x7f" not in line and "\u2028" not in line.decode()
    assert orjson.loads(line) == {"k": text}


def test_safe_ascii_json_is_returned_unchanged() -> None:
    from kubetrail.textsafe import safe_json_line

    body = orjson.dumps({"k": "".join(map(chr, range(0x20, 0x7f))), "n": [1, 2.5, None]})
    assert safe_json_line(body) == body
