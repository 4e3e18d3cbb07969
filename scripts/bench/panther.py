"""`make bench-panther`: scan throughput with panther-analysis's Kubernetes rules loaded, next to
the `orjson.loads` baseline measured in the same run (as `make bench` does for the bundled pack).

    python scripts/bench/panther.py [PANTHER_ROOT]   (default ../shared/panther-analysis,
                                                      or KUBETRAIL_PANTHER_ROOT)

Rows: the bundled pack alone; bundled + all 30 Kubernetes rules (4 of them have no Requires, so
the prefilter is off); bundled + the 26 rules the side file gives Requires (prefilter on); the
same 26 with --no-prefilter. The stream is tests/synthetic's EKS stream (KUBETRAIL_BENCH_EVENTS,
default 100k events).
"""

from __future__ import annotations

import gc
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench-data"
N = int(os.environ.get("KUBETRAIL_BENCH_EVENTS", "100000"))


def best_of(runs: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Fastest of `runs` timings (seconds) and what fn returned."""
    best, result = float("inf"), None
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def parse_every_line(path: Path) -> int:
    """The baseline: orjson.loads of every line."""
    import orjson

    n = 0
    with path.open("rb") as f:
        for line in f:
            orjson.loads(line)
            n += 1
    return n


def scan(path: Path, extra: list[Path], root: Path, prefilter: bool) -> tuple[int, int]:
    from kubetrail.dedup.sqlite import SqliteDedupStore
    from kubetrail.panther.helpers import panther_root
    from kubetrail.pipeline import Pipeline
    from kubetrail.publish.stdout import StdoutPublisher
    from kubetrail.rules import RuleSet
    from kubetrail.rules.loader import load_rule_set
    from kubetrail.sources import read_paths

    rules = RuleSet(load_rule_set(extra, panther_root=panther_root(root),
                                  panther_requires=prefilter, err=io.StringIO()))
    with open(os.devnull, "wb") as sink:
        pipe = Pipeline(rules, SqliteDedupStore(), StdoutPublisher(sink))
        report = pipe.process(read_paths([path], rules.prefilter if prefilter else None))
    assert report.records == N and not report.failures, report.summary()
    return report.records, len(report.published)


def main() -> None:
    from kubetrail.panther.requires import _entries
    from tests.synthetic import write_jsonl

    env_root = os.environ.get("KUBETRAIL_PANTHER_ROOT")
    root = Path(sys.argv[1] if len(sys.argv) > 1 else env_root or
                ROOT.parent / "shared" / "panther-analysis")
    k8s = root / "rules" / "kubernetes_rules"
    import yaml

    side = [p for p in sorted(k8s.glob("*.yml"))
            if yaml.safe_load(p.read_text())["RuleID"] in _entries()]
    DATA.mkdir(exist_ok=True)
    stream = DATA / f"eks-{N}.jsonl"
    if not stream.exists():
        write_jsonl(str(stream), N)
    print(f"stream: {N} events, {stream.stat().st_size / N:.0f} bytes/event")
    base = N / best_of(3, lambda: parse_every_line(stream))[0]
    print(f"baseline orjson.loads every line          : {base:>9,.0f} events/s")
    rows = [("bundled pack (prefilter)", [], True),
            ("+ 30 Panther k8s rules (prefilter off)", [k8s], True),
            ("+ 26 side-file rules (prefilter)", side, True),
            ("+ 26 side-file rules (--no-prefilter)", side, False)]
    for label, extra, prefilter in rows:
        seconds, (_, findings) = best_of(1 if extra and not prefilter else 2,
                                         lambda e=extra, p=prefilter: scan(stream, e, root, p))
        rate = N / seconds
        print(f"{label:<42}: {rate:>9,.0f} events/s = {rate / base:.2f}x baseline "
              f"({findings} findings)")


if __name__ == "__main__":
    main()
