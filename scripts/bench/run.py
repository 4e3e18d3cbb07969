"""`make bench`: kubetrail's throughput and import-time figures, each printed next to a baseline
measured in the same run on the same machine, so the ratios mean something anywhere.

1. scan rate of `kubetrail scan`'s pipeline over a generated EKS stream (200k events, ~1 KB each)
   vs. merely `orjson.loads` of every line (goal: >= 2x, by the rule-derived prefilter);
   the same scan without the prefilter, to show where the speed comes from;
2. peak memory of scanning 50k vs 200k events in a fresh process (goal: flat);
3. import time of the CLI and of each cloud function's module vs. `python -c pass`.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench-data"
N = int(os.environ.get("KUBETRAIL_BENCH_EVENTS", "200000"))


def best_of(runs: int, fn: Callable[[], int]) -> tuple[float, int]:
    """Fastest of `runs` timings (seconds) and what fn counted."""
    best, count = float("inf"), 0
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - t)
    return best, count


def parse_every_line(path: Path) -> int:
    import orjson

    n = 0
    with path.open("rb") as f:
        for line in f:
            orjson.loads(line)
            n += 1
    return n


def scan(path: Path, prefilter: bool) -> int:
    from kubetrail.dedup.sqlite import SqliteDedupStore
    from kubetrail.pipeline import Pipeline
    from kubetrail.publish.stdout import StdoutPublisher
    from kubetrail.rules import RuleSet, load_rules
    from kubetrail.sources import read_paths

    rules = RuleSet(load_rules())
    with open(os.devnull, "wb") as sink:
        pipe = Pipeline(rules, SqliteDedupStore(), StdoutPublisher(sink))
        report = pipe.process(read_paths([path], rules.prefilter if prefilter else None))
    assert report.records == N and not report.failures, report.summary()
    return report.records


def peak_rss_mib(path: Path) -> float:
    code = ("import resource,sys; from kubetrail.cli import main; import io;"
            "main(['scan', sys.argv[1]], out=open('/dev/null','w'), err=io.StringIO());"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.strip()) / 1024


def import_ms(stmt: str, runs: int = 7) -> float:
    """Median wall time of a fresh interpreter running `stmt`, in ms."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", stmt], check=True, cwd=ROOT)
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2] * 1000


def main() -> None:
    from tests.synthetic import write_jsonl

    DATA.mkdir(exist_ok=True)
    stream = DATA / f"eks-{N}.jsonl"
    if not stream.exists():
        write_jsonl(str(stream), N)
    size = stream.stat().st_size
    print(f"stream: {N} events, {size / N:.0f} bytes/event, {size / 2**20:.1f} MiB")

    base_s, _ = best_of(3, lambda: parse_every_line(stream))
    scan_s, _ = best_of(3, lambda: scan(stream, prefilter=True))
    full_s, _ = best_of(1, lambda: scan(stream, prefilter=False))
    base, rate, full = N / base_s, N / scan_s, N / full_s
    print(f"baseline orjson.loads every line : {base:>10,.0f} events/s")
    print(f"kubetrail scan (prefilter)       : {rate:>10,.0f} events/s  = {rate / base:.2f}x "
          f"baseline (goal >= 2x)")
    print(f"kubetrail scan (--no-prefilter)  : {full:>10,.0f} events/s  = {full / base:.2f}x "
          f"baseline")

    small = DATA / "eks-50000.jsonl"
    if not small.exists():
        write_jsonl(str(small), 50_000)
    rss_small, rss_big = peak_rss_mib(small), peak_rss_mib(stream)
    print(f"peak RSS scanning 50k events     : {rss_small:>7.1f} MiB")
    print(f"peak RSS scanning {N // 1000}k events    : {rss_big:>7.1f} MiB  = "
          f"{rss_big / rss_small:.2f}x the 50k run (goal: flat, ~1x)")

    empty = import_ms("pass")
    print(f"python -c pass                   : {empty:>7.1f} ms (baseline)")
    for label, stmt in _import_targets():
        ms = import_ms(stmt)
        print(f"import {label:<26}: {ms:>7.1f} ms  = +{ms - empty:.1f} ms over baseline")


def _import_targets() -> list[tuple[str, str]]:
    targets = [("kubetrail.cli", "import kubetrail.cli")]
    for cloud, module in (("aws", "handler"), ("azure", "function_app"), ("gcp", "main")):
        if (ROOT / "functions" / cloud / f"{module}.py").exists():
            stmt = (f"import sys; sys.path.insert(0, 'functions/{cloud}'); import {module}; "
                    f"assert 'boto3' not in sys.modules or '{cloud}' != 'aws'")
            targets.append((f"functions/{cloud}/{module}", stmt))
    return targets


if __name__ == "__main__":
    main()
