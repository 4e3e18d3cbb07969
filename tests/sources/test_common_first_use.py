"""sources/common.py binds its JSON checks and parser to msgspec's and orjson's on first use (an
empty input imports neither): the first call of each, broken input included, answers exactly as
every later call does, and afterwards the module holds the libraries' own functions (no wrapper
left on a per-record path). Each case runs in a fresh interpreter, where nothing is bound yet."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from kubetrail.errors import DecodeError
from kubetrail.sources import common
assert "msgspec" not in sys.modules and "orjson" not in sys.modules
answers = []
for text in json.loads(sys.argv[1]):
    data = text.encode("utf-8", "surrogatepass")
    try:
        parsed = ["value", common.loads(data)]
    except DecodeError as exc:
        parsed = ["DecodeError", exc.message]
    answers.append([parsed, common.is_json_object(data), common.is_json(data)])
import msgspec, orjson
bound = (common._parse is orjson.loads and common._ParseError is orjson.JSONDecodeError
         and type(common._check_object).__name__ == type(common._check_value).__name__
         == "builtin_function_or_method")
print(json.dumps([answers, bound]))
"""

CASES = ['{"a": [1, {"b": null}]}', '{"a": ', "[1, 2]", "\ufeff{}", "not json", '{"a": 1} x',
         "\ud800", "[" * 2000 + "]" * 2000, ""]


def _fresh(*texts: str) -> list[object]:
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(texts)], capture_output=True,
                         text=True, check=True, timeout=60)
    answers, bound = json.loads(out.stdout)
    assert bound, "common did not bind the libraries' own functions"
    return list(answers)


@pytest.mark.parametrize("first", CASES)
def test_the_first_call_answers_as_every_later_one(first: str) -> None:
    alone = _fresh(first)  # the first call of the process, whatever the text
    after = _fresh(CASES[0], first)[1]  # the same text once everything is bound
    assert alone == [after]


def test_broken_json_is_a_decode_error_on_the_first_call() -> None:
    ((parsed, is_object, is_value),) = _fresh('{"a": ')
    assert parsed[0] == "DecodeError" and parsed[1].startswith("invalid JSON")
    assert is_object is False and is_value is False
