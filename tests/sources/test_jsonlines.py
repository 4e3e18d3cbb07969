"""JSON lines read in blocks: a block decides what its lines would, across block boundaries, with
defects anywhere, for plain and gzip files alike (gzip is read line by line)."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import orjson
import pytest

from kubetrail.sources import read_paths
from kubetrail.sources.base import Failure, Outcome, Prefiltered, Skip
from kubetrail.sources.blocks import BLOCK_BYTES
from tests.sources.helpers import RULES, awslogs, findings
from tests.synthetic import events


def _daemonset() -> bytes:
    """A generated DaemonSet create that is a finding: by a person, completed, not a dry run."""
    ev = next(e for e in events(3000, daemonset_every=50) if e["verb"] == "create"
              and e["objectRef"]["resource"] == "daemonsets")
    ev["user"]["username"] = "mallory@example.com"
    ev["responseStatus"] = {"metadata": {}, "code": 201}
    ev["requestURI"] = ev["requestURI"].split("?")[0]
    return orjson.dumps(ev)


DAEMONSET = _daemonset()


def defects() -> dict[str, bytes]:
    ds = orjson.loads(DAEMONSET)
    panther = {**ds, "p_log_type": "Amazon.EKS.Audit", "p_source_label": "prod"}
    wrapped = {"messageType": "DATA_MESSAGE", "owner": "111122223333",
               "logGroup": "/aws/eks/prod/cluster", "logStream": "kube-apiserver-audit-1",
               "subscriptionFilters": ["kubetrail"],
               "logEvents": [{"id": "1", "timestamp": 1764244800000,
                              "message": DAEMONSET.decode()}]}
    return {
        "cut": DAEMONSET[:200],
        "blank": b"",
        "spaces": b"   ",
        "not ascii": DAEMONSET.replace(b'"kind"', b'"note":"caf\xc3\xa9","kind"', 1),
        "invalid utf-8": DAEMONSET.replace(b'"kind"', b'"note":"\xff","kind"', 1),
        "panther": orjson.dumps(panther),
        "awslogs": orjson.dumps(awslogs(wrapped)),
        "two on one line": DAEMONSET + b"," + DAEMONSET,
        "not an object": b"[1, 2]",
        "daemonset": DAEMONSET,
    }


def positions(outcomes: list[Outcome]) -> dict[int, list[str]]:
    """Line number -> what became of it, or of each record it holds (a Prefiltered run is
    expanded to its lines)."""
    out: dict[int, list[str]] = {}
    for o in outcomes:
        first = int((o.origin.position or "0").split("/")[0])
        count = o.count if isinstance(o, Prefiltered) else 1
        for line in range(first, first + count):
            out.setdefault(line, []).append(
                o.reason if isinstance(o, Failure | Skip) else type(o).__name__)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_blocks_decide_what_lines_would_with_defects_anywhere(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    lines = [orjson.dumps(e) for e in events(4000, seed=seed, daemonset_every=400)]
    for _, text in sorted(defects().items()):
        for _copy in range(3):
            lines.insert(rng.randrange(len(lines)), text)
    plain, packed = tmp_path / "audit.jsonl", tmp_path / "audit.jsonl.gz"
    plain.write_bytes(b"\n".join(lines) + b"\n")
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert plain.stat().st_size > 20 * BLOCK_BYTES

    slow = list(read_paths([plain]))
    fast, fast_gz = list(read_paths([plain], RULES.prefilter)), list(
        read_paths([packed], RULES.prefilter))
    assert findings(fast) == findings(slow) == [
        (rule, origin.replace(str(packed), str(plain)), title)
        for rule, origin, title in findings(fast_gz)]
    assert len(findings(slow)) >= 13  # 3 x (plain, non-ASCII, Panther, wrapped) + generated
    slow_at, fast_at = positions(slow), positions(fast)
    assert fast_at == positions(fast_gz)
    assert set(fast_at) == set(slow_at)  # every line has an outcome, at its own line number
    # Damaged lines fail (or are blank) with the same reason on every path; the rest agree too,
    # except that a line no rule can match is Prefiltered instead of Decoded.
    for line, fate in slow_at.items():
        assert fast_at[line] == fate or (fate, fast_at[line]) == (["Decoded"], ["Prefiltered"]), \
            line
    assert sum(fate[0].startswith("invalid") for fate in fast_at.values()) >= 9


@pytest.mark.parametrize("limit", [1000, 4096])
def test_over_long_lines_at_every_offset(tmp_path: Path, limit: int) -> None:
    def line(size: int) -> bytes:
        head = b'{"kind":"Event","verb":"get","pad":"'
        return head + b"x" * (size - len(head) - 2) + b'"}'

    sizes = [limit - 1, limit, limit + 1, 3 * limit, 17, limit // 2 + 3] * 7
    random.Random(limit).shuffle(sizes)
    text = b"\n".join(map(line, sizes))
    plain, packed = tmp_path / "long.jsonl", tmp_path / "long.jsonl.gz"
    for last in (b"", b"\n"):  # with and without a final newline
        plain.write_bytes(text + last)
        packed.write_bytes(gzip.compress(text + last))
        for path in (plain, packed):
            got = positions(list(read_paths([path], RULES.prefilter, max_inflate=limit)))
            assert got == {i: [f"line longer than {limit} bytes" if size > limit else "Prefiltered"]
                           for i, size in enumerate(sizes, 1)}, (path, last)


@pytest.mark.parametrize("packed", [False, True])
def test_a_damaged_line_costs_only_itself(tmp_path: Path, packed: bool) -> None:
    lines = [orjson.dumps(e) for e in events(600, seed=4, daemonset_every=10**9)]
    lines[300] = lines[300][:150]  # cut
    lines[301] = lines[301].replace(b'"kind"', b'"note":"caf\xc3\xa9","kind"', 1)
    path = tmp_path / ("audit.jsonl.gz" if packed else "audit.jsonl")
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(gzip.compress(data) if packed else data)
    outcomes = list(read_paths([path], RULES.prefilter))
    # nothing fully decoded, and the other lines of its block or batch stay in runs
    assert {type(o).__name__ for o in outcomes} == {"Prefiltered", "Failure"}
    assert len(outcomes) <= 12
    assert [o.origin.position for o in outcomes if isinstance(o, Failure)] == ["301"]
    assert positions(outcomes)[302] == ["Prefiltered"]  # valid non-ASCII UTF-8
    assert sum(getattr(o, "count", 1) for o in outcomes) == 600


def _mutate(rng: random.Random, line: bytes, other: bytes) -> bytes:
    """One random damage or disguise of a line, as a fuzzer would try."""
    choice = rng.randrange(7)
    at = rng.randrange(len(line))
    if choice == 0:  # a byte replaced by JSON punctuation, whitespace or a non-ASCII byte
        return line[:at] + bytes([rng.choice(b',{}[]":\\ \r\t\x00\xc3\xff')]) + line[at + 1:]
    if choice == 1:  # cut
        return line[:at]
    if choice == 2:  # two records on one line
        return line + rng.choice([b",", b" ", b"", b"\r"]) + other
    if choice == 3:  # a needle's letters spelled as escapes (still the same JSON string)
        return line.replace(b"daemonsets", b"d\\u0061emon\\u0073ets").replace(
            b'"create"', b'"\\u0063reate"')
    if choice == 4:  # a duplicated key that changes the verb or the resource
        return line[:-1] + rng.choice([b',"verb":"create"}', b',"objectRef":{"resource":'
                                       b'"daemonsets"}}', b',"kind":"Event"}'])
    if choice == 5:  # a blank or whitespace-only line after it
        return line + rng.choice([b"\n", b"\n  ", b"\n\r"])
    return line.replace(b'"kind":"Event"', b'"kind":"Event","kind":"Pod"', 1)


@pytest.mark.parametrize("seed", range(6))
def test_fuzzed_lines_find_what_the_full_decoder_finds(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    lines = [orjson.dumps(e) for e in events(1500, seed=seed, daemonset_every=15)]
    for i in rng.sample(range(len(lines)), 250):
        lines[i] = _mutate(rng, lines[i], rng.choice(lines))
    path = tmp_path / "fuzzed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    slow, fast = list(read_paths([path])), list(read_paths([path], RULES.prefilter))
    assert findings(fast) == findings(slow)
    assert len(findings(slow)) >= 10
    slow_at, fast_at = positions(slow), positions(fast)
    assert set(fast_at) == set(slow_at)
    for n, fate in slow_at.items():  # syntax and encoding failures are always reported
        assert fast_at[n] == fate or (fast_at[n] == ["Prefiltered"] and not any(
            f.startswith("invalid JSON") for f in fate)), (n, fate, fast_at[n])
