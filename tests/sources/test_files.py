"""read_paths: JSON lines, documents, arrays, gzip, stdin, and what goes wrong with files."""

from __future__ import annotations

import gzip
import io
import random
import sys
import tracemalloc
from pathlib import Path

import orjson
import pytest

from kubetrail.errors import ConfigError, Origin
from kubetrail.sources import read_paths
from kubetrail.sources.base import Failure
from tests.sources.helpers import CORPUS, RULES, corpus_lines, events, findings, kinds, native

EKS = CORPUS / "eks/panther-analysis_eks-audit-events.jsonl"
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def lines_of(n: int, seed: int = 1) -> bytes:
    """n distinct raw EKS Event lines (random ids so that gzip cannot squeeze them to nothing)."""
    rng = random.Random(seed)
    base = [native(e) for e in corpus_lines("eks/panther-analysis_eks-audit-events.jsonl")]
    return b"".join(orjson.dumps({**base[i % len(base)], "auditID": f"{rng.getrandbits(128):x}"})
                    + b"\n" for i in range(n))


def test_json_lines_with_line_origins() -> None:
    outcomes = list(read_paths([EKS]))
    assert kinds(outcomes) == ["Decoded"] * 186
    assert outcomes[0].origin == Origin(str(EKS), "1")
    assert outcomes[185].origin == Origin(str(EKS), "186")


def test_pretty_printed_document_with_bom() -> None:
    path = CORPUS / "aks/sysdiglabs-aks-audit-log_single-record.json"
    (outcome,) = read_paths([path])
    assert kinds([outcome]) == ["Decoded"] and outcome.origin == Origin(str(path))


def test_json_arrays_pretty_and_compact(tmp_path: Path) -> None:
    docs = [native(e) for e in corpus_lines("eks/panther-analysis_eks-audit-events.jsonl")[:3]]
    pretty, compact = tmp_path / "pretty.json", tmp_path / "compact.json"
    pretty.write_bytes(orjson.dumps(docs, option=orjson.OPT_INDENT_2))
    compact.write_bytes(orjson.dumps(docs))
    outcomes = list(read_paths([pretty]))
    assert kinds(outcomes) == ["Decoded"] * 3
    assert [o.origin for o in outcomes] == [Origin(str(pretty), f"[{i}]") for i in range(3)]
    outcomes = list(read_paths([compact]))
    assert [o.origin.position for o in outcomes] == ["1/[0]", "1/[1]", "1/[2]"]


def test_gzip_is_recognized_by_its_magic_bytes(tmp_path: Path) -> None:
    sneaky = tmp_path / "audit.json"  # gzip without a .gz suffix
    sneaky.write_bytes(gzip.compress(EKS.read_bytes()))
    assert kinds(read_paths([sneaky])) == ["Decoded"] * 186
    pretty = tmp_path / "record.json.gz"
    pretty.write_bytes(gzip.compress(
        (CORPUS / "aks/sysdiglabs-aks-audit-log_single-record.json").read_bytes()))
    assert kinds(read_paths([pretty])) == ["Decoded"]


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BufferedReader(io.BytesIO(gzip.compress(EKS.read_bytes()))))
    monkeypatch.setattr(sys, "stdin", stdin)
    outcomes = list(read_paths([Path("-")]))
    assert len(outcomes) == 186 and outcomes[3].origin == Origin("<stdin>", "4")


def test_blank_lines_and_crlf(tmp_path: Path) -> None:
    line = EKS.read_bytes().splitlines()[0]
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b"\r\n" + line + b"\r\n\r\n   \n" + line + b"\r\n")
    outcomes = list(read_paths([path]))
    assert kinds(outcomes) == ["Decoded", "Decoded"]
    assert [o.origin.position for o in outcomes] == ["2", "5"]


def test_missing_or_unreadable_paths_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        read_paths([EKS, tmp_path / "missing.jsonl"])  # raised before anything is read
    with pytest.raises(ConfigError, match="is a directory"):
        read_paths([tmp_path])


def test_corrupt_gzip_mid_file_keeps_what_came_before(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(lines_of(3000)))
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)
    path = tmp_path / "corrupt.jsonl.gz"
    path.write_bytes(bytes(data))
    outcomes = list(read_paths([path]))  # no exception
    assert isinstance(outcomes[-1], Failure)
    assert outcomes[-1].reason.startswith(f"unreadable from line {len(outcomes)} on: ")
    first_bad = kinds(outcomes).index("Failure")
    assert first_bad > 1000 and kinds(outcomes[:first_bad]) == ["Decoded"] * first_bad
    # lines inflated from the damaged block before zlib noticed are failures of their own
    assert all(isinstance(o, Failure) for o in outcomes[first_bad:] if kinds([o])[0] != "Decoded")
    assert len(outcomes) < 3000


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(lines_of(500))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) * 3 // 4])
    outcomes = list(read_paths([path]))
    last = outcomes[-1]
    assert isinstance(last, Failure) and "unreadable from line" in last.reason
    assert "end-of-stream" in last.reason
    assert len(events(outcomes)) > 300


def test_broken_first_line_does_not_hide_the_rest(tmp_path: Path) -> None:
    good = lines_of(3)
    path = tmp_path / "first-broken.jsonl"
    path.write_bytes(b'{"kind":"Event","verb":\n' + good)
    outcomes = list(read_paths([path]))
    assert kinds(outcomes) == ["Failure", "Decoded", "Decoded", "Decoded"]
    assert outcomes[0].origin.position == "1"


def test_broken_pretty_document_is_one_failure(tmp_path: Path) -> None:
    text = orjson.dumps(native(corpus_lines("eks/panther-analysis_eks-audit-events.jsonl")[0]),
                        option=orjson.OPT_INDENT_2)
    path = tmp_path / "broken.json"
    path.write_bytes(text[:-40])
    (outcome,) = read_paths([path])
    assert isinstance(outcome, Failure) and outcome.reason.startswith("invalid JSON document")
    assert outcome.raw == text[:-40]


def test_size_bounds(tmp_path: Path) -> None:
    pretty = tmp_path / "big.json"
    pretty.write_bytes(orjson.dumps([native(e) for e in corpus_lines(
        "eks/panther-analysis_eks-audit-events.jsonl")], option=orjson.OPT_INDENT_2))
    (outcome,) = read_paths([pretty], max_inflate=10_000)
    assert isinstance(outcome, Failure)
    assert outcome.reason == \
        "document larger than 10000 bytes (only JSON lines files may be larger)"
    good = lines_of(2)
    long_line = tmp_path / "long.jsonl"
    long_line.write_bytes(good.splitlines(keepends=True)[0] + b'{"x": "' + b"y" * 50_000 + b'"}\n'
                          + good.splitlines(keepends=True)[1])
    outcomes = list(read_paths([long_line], max_inflate=10_000))
    assert kinds(outcomes) == ["Decoded", "Failure", "Decoded"]
    assert outcomes[1].reason == "line longer than 10000 bytes"  # type: ignore[union-attr]


def test_prefilter_changes_no_finding_over_corpus_and_samples() -> None:
    paths = sorted(CORPUS.rglob("*.json*")) + sorted(SAMPLES.glob("*.json*"))
    slow, fast = list(read_paths(paths)), list(read_paths(paths, RULES.prefilter))
    records = [getattr(o, "count", 1) for o in fast]
    assert len(slow) == sum(records)  # a run of prefiltered lines is one outcome
    assert findings(fast) == findings(slow)
    assert len(findings(slow)) >= 8


def test_memory_stays_flat_for_json_lines(tmp_path: Path) -> None:
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    small.write_bytes(lines_of(2000))
    big.write_bytes(lines_of(20000))

    def peak(path: Path) -> int:
        tracemalloc.start()
        for _ in read_paths([path], RULES.prefilter):
            pass
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    assert big.stat().st_size > 7 * 2**20
    assert peak(big) < 2 * peak(small) + 256 * 1024
