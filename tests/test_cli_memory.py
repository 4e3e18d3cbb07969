"""`kubetrail scan` memory stays flat however many records fail or findings it publishes: the
report keeps counters, failures and findings are streamed out as they pass. Measured as the peak
RSS of a real `kubetrail scan` process, started by a small launcher: Linux keeps ru_maxrss
across exec, so a child forked straight from pytest would report pytest's own size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_cli import DS_CREATE

EXE = Path(sys.executable).parent / "kubetrail"
MiB = 1024 * 1024
# Before streaming, each failure kept ~290 bytes and each finding ~3 KiB in the report: the
# larger inputs below would have cost ~7 MiB more (25,000 failures, 2,500 findings).
FLAT = 3 * MiB
LAUNCHER = """
import resource, subprocess, sys
with open(sys.argv[1], "wb") as err:
    status = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=err).returncode
print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss(tmp_path: Path, *args: str) -> int:
    """Peak resident set size, in bytes, of `kubetrail scan ARGS` (Linux: ru_maxrss in KiB)."""
    out = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(tmp_path / "err"), str(EXE),
                          "scan", *args], capture_output=True, check=True).stdout.split()
    summary = (tmp_path / "err").read_bytes().splitlines()[-1]
    assert out[0] == b"0", summary
    return int(out[1]) * 1024


def test_peak_memory_does_not_grow_with_the_number_of_failed_records(tmp_path: Path) -> None:
    def broken(n: int) -> str:
        path = tmp_path / f"broken{n}.jsonl"
        path.write_bytes(DS_CREATE.replace(b"USER", b"first") + b"\n"
                         + b'{"kind":"Event","verb":\n' * n)
        return str(path)

    small, large = peak_rss(tmp_path, broken(5_000)), peak_rss(tmp_path, broken(30_000))
    assert large - small < FLAT, (small / MiB, large / MiB)


def test_peak_memory_does_not_grow_with_the_number_of_findings(tmp_path: Path) -> None:
    def creates(n: int) -> str:
        path = tmp_path / f"creates{n}.jsonl"
        path.write_bytes(b"".join(DS_CREATE.replace(b"USER", b"user%d" % i) + b"\n"
                                  for i in range(n)))
        return str(path)

    # A dedup database file: the windows of distinct keys are state on disk, not in the scan.
    small = peak_rss(tmp_path, "--dedup-db", str(tmp_path / "a.db"), creates(500))
    large = peak_rss(tmp_path, "--dedup-db", str(tmp_path / "b.db"), creates(3_000))
    assert large - small < FLAT, (small / MiB, large / MiB)
