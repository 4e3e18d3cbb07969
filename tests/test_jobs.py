"""`kubetrail scan --jobs N`: the same bytes on stdout and the same report and failure lines on
stderr as one process, with chunks forced small (KUBETRAIL_CHUNK_BYTES) so that files are cut
in many places; and no record lost when a worker dies or cannot send its results."""

from __future__ import annotations

import contextlib
import gzip
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import orjson
import pytest

import kubetrail.chunkwork as chunkwork
import kubetrail.jobs as jobs
import kubetrail.jobsettings as jobsettings
import kubetrail.pipeline as pipeline
from kubetrail.cli import main
from scripts.bench.streams import KINDS, stream

ROOT = Path(__file__).resolve().parents[1]
CORPUS_LINES = sorted([*(ROOT / "tests" / "corpus").rglob("*.jsonl"),
                       *(ROOT / "samples").glob("*.jsonl")])
DS_CREATE = (b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete",'
             b'"verb":"create","user":{"username":"USER"},"objectRef":{"resource":"daemonsets",'
             b'"namespace":"default","name":"x"},"responseStatus":{"code":201},'
             b'"stageTimestamp":"2026-11-27T10:00:00.000000Z"}')
QUIET = (b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete",'
         b'"verb":"get","user":{"username":"alice"},"objectRef":{"resource":"configmaps",'
         b'"namespace":"default","name":"c"},"responseStatus":{"code":200},'
         b'"stageTimestamp":"2026-11-27T10:00:00.000000Z"}')


class FixedNow(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> FixedNow:
        return cls(2026, 11, 29, 12, 0, tzinfo=tz)


class Spy:
    """Counts the files read in parallel and the chunks workers answered (in this process)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.files = self.answered = self.here = 0
        read, result, here = jobs._read_parallel, jobs._Workers.result, chunkwork.read_here

        def read_parallel(*args: Any, **kwargs: Any) -> Iterator[object]:
            self.files += 1
            return read(*args, **kwargs)

        def counted(workers: jobs._Workers, w: int | None) -> object:
            answer = result(workers, w)
            self.answered += answer is not None
            return answer

        def read_here(*args: Any) -> Iterator[object]:
            self.here += 1
            return here(*args)

        monkeypatch.setattr(jobs, "_read_parallel", read_parallel)
        monkeypatch.setattr(jobs, "read_here", read_here)
        monkeypatch.setattr(jobs._Workers, "result", counted)


def scan(*argv: str) -> tuple[bytes, str]:
    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    assert main(["scan", "--format", "json", *argv], out=out, err=err) == 0
    out.flush()
    return out.buffer.getvalue(), err.getvalue()  # type: ignore[attr-defined,unused-ignore]


def same_with_jobs(monkeypatch: pytest.MonkeyPatch, chunk: int, *argv: str,
                   jobs_list: tuple[int, ...] = (2, 3)) -> tuple[bytes, str, Spy]:
    """Scan with --jobs 1 and each of `jobs_list`: identical stdout and stderr every time."""
    monkeypatch.setenv("KUBETRAIL_CHUNK_BYTES", str(chunk))
    one = scan("--jobs", "1", *argv)
    spy = Spy(monkeypatch)
    for n in jobs_list:
        assert scan("--jobs", str(n), *argv) == one, f"--jobs {n}"
    return one[0], one[1], spy


@pytest.mark.parametrize("kind", KINDS)
def test_bench_streams_give_the_same_findings_and_report(
        kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = stream(kind, 2500, tmp_path)
    before = jobs.read_by_workers()
    out, err, spy = same_with_jobs(monkeypatch, 40_000, str(path))
    assert out.count(b"\n") > 10 and " failed=0 " in err
    assert jobs.read_by_workers() - before == 2 * path.stat().st_size  # (the progress line)
    assert spy.files == 2 and spy.answered > 2 * 20  # cut in many chunks, read by workers


def test_no_prefilter_runs_in_parallel_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    path = stream("eks-request", 1500, tmp_path)
    _, err, spy = same_with_jobs(monkeypatch, 50_000, "--no-prefilter", str(path),
                                 jobs_list=(2,))
    assert "prefiltered=0 " in err and spy.answered > 10


def test_corpus_records_give_the_same_findings_and_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for p in CORPUS_LINES)
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(lines * 3)
    # some records have no time: their dedup window starts at the clock's now
    monkeypatch.setattr(pipeline, "datetime", FixedNow)
    out, _, spy = same_with_jobs(monkeypatch, 4096, str(path))
    assert out and spy.answered > 10


def test_defects_at_chunk_boundaries_keep_their_line_numbers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Chunks of ~300 bytes over lines of ~250: every defect sits at or next to a boundary.
    defects = [b"", b"   ", b"{broken", b"x" * 3000, DS_CREATE.replace(b"x", b"y") + b"\r",
               b'{"kind":"Event"', b"[1,2]", b"\xff\xfe{}", DS_CREATE[:-1] + b',"verb":7}']
    body = []
    for i in range(120):
        body.append(defects[(i // 3) % len(defects)] if i % 3 == 1 else QUIET)
        if i % 7 == 0:
            body.append(DS_CREATE.replace(b'"x"', b'"n%d"' % i))
    path = tmp_path / "defects.jsonl"
    path.write_bytes(b"\n".join(body) + b"\n" + DS_CREATE[:40])  # a last line without newline
    _, err, spy = same_with_jobs(monkeypatch, 300, "--max-inflate", "2000", str(path))
    assert spy.answered > 20
    failed = [line for line in err.splitlines() if ": failed: " in line]
    assert f"defects.jsonl:{len(body) + 1}: failed:" in failed[-1]
    assert f"defects.jsonl:{body.index(b'x' * 3000) + 1}: failed: line longer than 2000" in err
    assert f"defects.jsonl:{body.index(b'{broken') + 1}: failed: " in err


def test_crlf_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b"".join((DS_CREATE.replace(b'USER', b'u%d' % i) if i % 5 else QUIET)
                              + b"\r\n" for i in range(200)))
    out, _, spy = same_with_jobs(monkeypatch, 1000, str(path))
    assert out.count(b"\n") == 160 and spy.answered > 10


def test_one_finding_for_a_key_seen_in_every_chunk(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "same.jsonl"
    path.write_bytes(b"".join((DS_CREATE if i % 10 == 0 else QUIET) + b"\n"
                              for i in range(400)))
    out, err, spy = same_with_jobs(monkeypatch, 2000, str(path))
    assert len(out.splitlines()) == 1 and "deduplicated=39 " in err and spy.answered > 10


def test_dedup_db_persists_across_parallel_scans(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = stream("eks-metadata", 1500, tmp_path)
    monkeypatch.setenv("KUBETRAIL_CHUNK_BYTES", "30000")
    expected = scan("--jobs", "1", "--dedup-db", str(tmp_path / "one.db"), str(path))
    first = scan("--jobs", "2", "--dedup-db", str(tmp_path / "two.db"), str(path))
    again = scan("--jobs", "2", "--dedup-db", str(tmp_path / "two.db"), str(path))
    assert first == expected and first[0] and again[0] == b""
    published = len(first[0].splitlines())
    assert _field(again[1], "deduplicated") == str(published + int(_field(first[1],
                                                                          "deduplicated")))


def _field(summary: str, name: str) -> str:
    return summary.rsplit(f"{name}=", 1)[1].split()[0]


def test_every_record_is_read_again_when_workers_die(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = stream("eks-request", 1200, tmp_path)
    monkeypatch.setenv("KUBETRAIL_CHUNK_BYTES", "40000")
    expected = scan("--jobs", "1", str(path))
    serve = jobs._serve
    monkeypatch.setattr(jobs, "_serve", lambda *args: os._exit(3))
    assert scan("--jobs", "2", str(path)) == expected
    # a worker that cannot send a chunk's results: that chunk is read here
    monkeypatch.setattr(jobs, "_serve", serve)
    monkeypatch.setattr(jobs, "dumps", lambda chunk: (_ for _ in ()).throw(RecursionError()))
    spy = Spy(monkeypatch)
    assert scan("--jobs", "2", str(path)) == expected
    assert spy.files == 1 and spy.answered == 0 and spy.here > 5
    # a worker whose own code raises (not the reader): its chunks too are read here
    monkeypatch.undo()
    monkeypatch.setenv("KUBETRAIL_CHUNK_BYTES", "40000")
    monkeypatch.setattr(chunkwork, "_evaluate", lambda *args: 1 / 0)
    spy = Spy(monkeypatch)
    assert scan("--jobs", "2", str(path)) == expected
    assert spy.files == 1 and spy.here > 5  # (a chunk with nothing to evaluate is answered)


def test_spawned_workers_load_the_rules_themselves(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = stream("eks-metadata", 800, tmp_path)
    monkeypatch.setenv("KUBETRAIL_CHUNK_BYTES", "100000")
    expected = scan("--jobs", "1", str(path))
    monkeypatch.setattr(jobs, "start_method", lambda: "spawn")
    spy = Spy(monkeypatch)
    assert scan("--jobs", "2", str(path)) == expected
    assert spy.answered >= 4


def test_gzip_stdin_and_small_files_stay_in_this_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = stream("eks-metadata", 300, tmp_path)
    packed = tmp_path / "packed.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    array = tmp_path / "array.json"  # one JSON document, cut nowhere
    array.write_bytes(b"[" + plain.read_bytes().rstrip(b"\n").replace(b"\n", b",\n") + b"]")
    monkeypatch.setenv("KUBETRAIL_CHUNK_BYTES", str(packed.stat().st_size // 5))
    expected = scan("--jobs", "1", str(plain))
    spy = Spy(monkeypatch)
    assert scan("--jobs", "2", str(packed)) == expected
    assert scan("--jobs", "2", str(array))[0] == expected[0]
    assert spy.files == 0
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(plain.read_bytes())))
    assert scan("--jobs", "2", "-", str(plain))[0] == expected[0]  # (dedup: once)
    assert spy.files == 1


def test_a_closed_scan_leaves_no_worker_behind(tmp_path: Path) -> None:
    from kubetrail.rules import RuleSet
    from kubetrail.rules.loader import load_rule_set

    path = stream("eks-metadata", 1000, tmp_path)
    rules = RuleSet(load_rule_set(None, bundled=True, err=io.StringIO()))
    outcomes = jobs.scan_paths([path], rules, rules.prefilter, max_inflate=1 << 20, jobs=2,
                               setup=lambda: (rules, rules.prefilter), chunk_bytes=20_000)
    next(outcomes)
    assert len(multiprocessing.active_children()) == 2
    outcomes.close()  # what an interrupt or a failed publish does to the scan's generator
    assert multiprocessing.active_children() == []


def test_jobs_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_bytes(DS_CREATE + b"\n")
    monkeypatch.setenv("KUBETRAIL_JOBS", "0")
    out, err = io.TextIOWrapper(io.BytesIO()), io.StringIO()
    assert main(["scan", str(path)], out=out, err=err) == 1
    assert "KUBETRAIL_JOBS" in err.getvalue()
    monkeypatch.setenv("KUBETRAIL_JOBS", "3")
    assert orjson.loads(scan(str(path))[0])["rule_id"] == "Kubernetes.DaemonSet.Created"
    assert 1 <= jobsettings.default_jobs() <= jobsettings.MAX_DEFAULT_JOBS


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _wait_until(condition: Callable[[], bool], seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds  # a bound for a loaded machine, not a measurement
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_workers_end_with_the_scan_however_it_ends(sig: int, tmp_path: Path) -> None:
    path = stream("aks-eventhub", 3000, tmp_path)
    env = {**os.environ, "KUBETRAIL_CHUNK_BYTES": "20000", "PYTHONPATH": str(ROOT / "shared")}
    scan = subprocess.Popen(  # SIGINT as at a terminal, not ignored as in a background job
        [sys.executable, "-c", "import signal, sys; from kubetrail.cli import main; "
         "signal.signal(signal.SIGINT, signal.default_int_handler); "
         "sys.exit(main(['scan', '--jobs', '2', sys.argv[1]]))", str(path)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        assert _wait_until(lambda: len(_children(scan.pid)) == 2 or scan.poll() is not None)
        workers = _children(scan.pid)
        if len(workers) < 2:
            pytest.skip("the scan ended before it could be interrupted")
        scan.send_signal(sig)
        scan.wait(timeout=120)
        assert _wait_until(lambda: not any(Path(f"/proc/{w}").exists() for w in workers))
    finally:
        scan.kill()
        scan.wait()
        for w in workers:  # (left behind only when the test fails)
            with contextlib.suppress(OSError):
                os.kill(w, signal.SIGKILL)


def test_chunk_results_unpickle_to_equal_frozen_records(tmp_path: Path) -> None:
    import pickle

    from kubetrail.events import AuditEvent
    from kubetrail.rules import RuleSet
    from kubetrail.rules.loader import load_rule_set

    path = stream("eks-request", 400, tmp_path)
    rules = RuleSet(load_rule_set(None, bundled=True, err=io.StringIO()))
    chunk = chunkwork.run_chunk(path, path.name, 0, None, rules, rules.prefilter, 1 << 20)
    again = pickle.loads(chunkwork.dumps(chunk))
    assert again == chunk and any(type(i) is tuple for i in again.items)
    events = [i[1] for i in again.items if type(i) is tuple]
    assert all(type(e) is AuditEvent for e in events)
    with pytest.raises(AttributeError):
        events[0].verb = "get"  # type: ignore[misc]


def test_the_scan_leaves_the_collector_as_it_found_it(tmp_path: Path) -> None:
    import gc

    from kubetrail.rules import RuleSet
    from kubetrail.rules.loader import load_rule_set

    path = stream("eks-metadata", 1000, tmp_path)
    rules = RuleSet(load_rule_set(None, bundled=True, err=io.StringIO()))
    for stop_early in (False, True):
        outcomes = jobs.scan_paths([path], rules, rules.prefilter, max_inflate=1 << 20, jobs=2,
                                   setup=lambda: (rules, rules.prefilter), chunk_bytes=20_000)
        next(outcomes)
        assert gc.get_freeze_count() > 0  # (the rules are frozen while the scan runs)
        if stop_early:
            outcomes.close()
        else:
            assert sum(1 for _ in outcomes) > 10
        assert gc.get_freeze_count() == 0


_SLOW = [False]


def _slowed_run_chunk(*args: Any) -> chunkwork.Chunk:
    """run_chunk, slowed down in the worker that read the file's first chunk."""
    _SLOW[0] = _SLOW[0] or args[2] == 0
    if _SLOW[0]:
        time.sleep(0.1)  # (far longer than a 20 kB chunk takes, even on a loaded machine)
    return chunkwork.run_chunk(*args)


def test_a_slowed_down_worker_gets_fewer_chunks(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = stream("eks-metadata", 2000, tmp_path)
    monkeypatch.setenv("KUBETRAIL_CHUNK_BYTES", "20000")
    expected = scan("--jobs", "1", str(path))
    monkeypatch.setattr(jobs, "run_chunk", _slowed_run_chunk)  # (forked workers inherit it)
    given: list[int | None] = []
    submit = jobs._Workers.submit
    monkeypatch.setattr(jobs._Workers, "submit",
                        lambda self, task: given.append(submit(self, task)) or given[-1])
    assert scan("--jobs", "2", str(path)) == expected
    slow = given[0]  # (the first chunk goes to the first worker)
    # (round-robin gives it half; in-order consumption bounds how far ahead the other can go)
    assert len(given) > 40 and given.count(slow) < 0.45 * len(given), (given.count(slow),
                                                                        len(given))
