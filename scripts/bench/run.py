"""`make bench`: kubetrail's speed and memory as users meet them, each figure next to a baseline
measured in the same run on the same machine, so the ratios mean something anywhere.

1. Whole processes, start-up included, on four realistic streams (scripts/bench/streams.py):
   `kubetrail scan FILE` vs a process that only `orjson.loads` every line (goal >= 2x), with the
   whole bundled pack; each stream is first checked exact (the same findings without the
   prefilter). Next to them the floor (scripts/bench/floor.py): a process decoding only the
   fields the rules read from every record, the most one CPU can reach without native code.
2. Peak memory of scanning a small and a large stream in a fresh process (goal: flat).
3. Cold start: `kubetrail scan` of an empty file, and each cloud entrypoint's import, vs
   `python -c pass` (goal <= +80 ms); `kubetrail scan` of one EKS record a rule matches (what
   the first record costs: the decoders and JSON parsers imported then, one finding written);
   then each entrypoint's import over what its platform has
   already imported, and each cold start up to the first answer (import, the whole pack, one
   small delivery; scripts/bench/first_call.py) over the same process without the function.
4. Per-invocation throughput of each cloud function on realistic deliveries (scripts/bench/
   invocations.py).

KUBETRAIL_BENCH_EVENTS sets the stream size (default 1,000,000 events, ~1-1.8 GB per stream;
generated once into bench-data/). KUBETRAIL_BENCH_STREAMS picks streams (comma-separated).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench-data"
N = int(os.environ.get("KUBETRAIL_BENCH_EVENTS", "1000000"))
RUNS = int(os.environ.get("KUBETRAIL_BENCH_RUNS", "3"))
KUBETRAIL = str(Path(sys.executable).with_name("kubetrail"))
BASELINE = ("import sys, orjson\nwith open(sys.argv[1], 'rb') as f:\n"
            "    for line in f:\n        orjson.loads(line)\n")
COLD_START_GOAL_MS = 80
FLOOR = ROOT / "scripts" / "bench" / "floor.py"


def timed(cmd: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, bytes]:
    """Wall time of one whole process and what it printed on stdout (when captured)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, check=True, cwd=ROOT)
    return time.perf_counter() - start, done.stdout or b""


def best(cmd: list[str], runs: int = RUNS) -> float:
    return min(timed(cmd)[0] for _ in range(runs))


def finding_ids(path: Path, *extra: str) -> list[bytes]:
    import orjson

    _, out = timed([KUBETRAIL, "scan", "--format", "json", *extra, str(path)],
                   stdout=subprocess.PIPE)
    return sorted(orjson.loads(line)["id"].encode() for line in out.splitlines())


def bench_streams() -> None:
    from scripts.bench.streams import KINDS, stream

    kinds = [k for k in os.environ.get("KUBETRAIL_BENCH_STREAMS", ",".join(KINDS)).split(",") if k]
    print(f"== whole-process scan, {N:,} events per stream, best of {RUNS}, whole bundled pack")
    print("(scan: the default --jobs, every CPU available; jobs=1: one process)")
    print("(floor: decode only the fields the rules read from every record, "
          "scripts/bench/floor.py;")
    print(" its ratio is roughly the most one CPU can reach on that stream without native code)")
    print(f"{'stream':<14}{'MiB':>8}{'orjson/s':>12}{'scan/s':>12}{'ratio':>8}{'jobs=1':>8}"
          f"{'floor':>8}  exact")
    for kind in kinds:
        path = stream(kind, N, DATA)
        exact = finding_ids(path) == finding_ids(path, "--no-prefilter")
        base = best([sys.executable, "-c", BASELINE, str(path)])
        scan = best([KUBETRAIL, "scan", "--format", "json", str(path)])
        one = best([KUBETRAIL, "scan", "--format", "json", "--jobs", "1", str(path)])
        floor = best([sys.executable, str(FLOOR), kind, str(path)])
        size = path.stat().st_size / 2**20
        print(f"{kind:<14}{size:>8.0f}{N / base:>12,.0f}{N / scan:>12,.0f}{base / scan:>7.2f}x"
              f"{base / one:>7.2f}x{base / floor:>7.2f}x  "
              f"{'yes' if exact else 'NO: findings differ without the prefilter'}")


def peak_rss_mib(path: Path) -> float:
    code = ("import resource, sys, io; from kubetrail.cli import main;"
            "main(['scan', '--format', 'json', sys.argv[1]], out=open('/dev/null', 'w'),"
            " err=io.StringIO());"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.strip()) / 1024


def bench_memory() -> None:
    from scripts.bench.streams import stream

    small, large = stream("eks-request", 50_000, DATA), stream("eks-request", 200_000, DATA)
    rss_small, rss_large = peak_rss_mib(small), peak_rss_mib(large)
    print("== peak memory (fresh process, eks-request)")
    print(f"50k events  : {rss_small:7.1f} MiB")
    print(f"200k events : {rss_large:7.1f} MiB  = {rss_large / rss_small:.2f}x (goal: flat, ~1x)")


def median_ms(cmd: list[str], runs: int = 9) -> float:
    times = sorted(timed(cmd)[0] for _ in range(runs))
    return times[len(times) // 2] * 1000


# One EKS audit record (samples/eks-audit.jsonl, line 8: a port-forward into a pod) that one rule
# of the bundled pack matches (Kubernetes.Pod.PortForward): one finding.
ONE_RECORD_SAMPLE, ONE_RECORD_LINE = ROOT / "samples" / "eks-audit.jsonl", 8


def cold_start_targets(empty: Path) -> list[tuple[str, list[str], bool]]:
    """(label, command, whether the +80 ms goal applies): the one-record scan is context."""
    one = DATA / "one-record.jsonl"
    one.write_bytes(ONE_RECORD_SAMPLE.read_bytes().splitlines(keepends=True)[ONE_RECORD_LINE - 1])
    targets = [("kubetrail scan <empty file>", [KUBETRAIL, "scan", str(empty)], True),
               ("kubetrail scan <one-record file>",
                [KUBETRAIL, "scan", "--format", "json", str(one)], False)]
    for cloud, module in (("aws", "handler"), ("azure", "function_app"), ("gcp", "main")):
        if (ROOT / "functions" / cloud / f"{module}.py").exists():
            stmt = f"import sys; sys.path.insert(0, 'functions/{cloud}'); import {module}"
            targets.append((f"import functions/{cloud}/{module}", [sys.executable, "-c", stmt],
                            True))
    return targets


# What each platform has imported before it imports the function: the Azure Functions worker
# imports azure.functions (its binding registry) and functions-framework is the GCP server.
PLATFORM_PRELOAD = {"azure": ("function_app", "azure.functions"),
                    "gcp": ("main", "functions_framework")}


def platform_targets() -> list[tuple[str, list[str], list[str]]]:
    """(label, command, its baseline): each entrypoint's import over what its platform has
    already imported (the baseline imports that much)."""
    out = []
    for cloud, (module, preload) in PLATFORM_PRELOAD.items():
        stmt = f"import {preload}; import sys; sys.path.insert(0, 'functions/{cloud}')"
        out.append((f"import {cloud}/{module} over {preload}",
                    [sys.executable, "-c", f"{stmt}; import {module}"],
                    [sys.executable, "-c", stmt]))
    return out


def first_call_targets() -> list[tuple[str, list[str], list[str]]]:
    """(label, command, its baseline): a cold start up to the first answer (import, the whole
    pack loaded, a small delivery processed; in-memory stores, no SDK), against the same
    process stopped before the import (the platform's preload and the delivery read)."""
    import pickle

    from scripts.bench import invocations

    out = []
    DATA.mkdir(exist_ok=True)
    for cloud in ("aws", "azure", "gcp"):
        delivery = invocations.warmup(cloud)
        path = DATA / f"first-call-{cloud}.pickle"
        path.write_bytes(pickle.dumps(delivery.payload))
        cmd = [sys.executable, str(ROOT / "scripts" / "bench" / "first_call.py"), cloud,
               str(path), str(delivery.events)]
        label = f"{cloud}: import + 1st delivery ({delivery.events} ev)"
        out.append((label, cmd, [*cmd, "--bare"]))
    return out


def median_pair_ms(cmd: list[str], baseline: list[str], runs: int = 9) -> tuple[float, float]:
    """Medians of `cmd` and `baseline` timed in turns, so a change of load on a shared machine
    weighs on both alike."""
    pairs = [(timed(cmd)[0], timed(baseline)[0]) for _ in range(runs)]
    ours, theirs = (sorted(p[i] for p in pairs)[runs // 2] * 1000 for i in (0, 1))
    return ours, theirs


def _line(label: str, ms: float, base: float, over: str = "", goal: bool = True) -> None:
    mark = "(no goal: context)" if not goal else "ok" if ms - base <= COLD_START_GOAL_MS \
        else "over goal"
    print(f"{label:<46}{ms:7.1f} ms  = +{ms - base:5.1f} ms{over}  {mark}")


def bench_cold_start() -> None:
    empty = DATA / "empty.jsonl"
    DATA.mkdir(exist_ok=True)
    empty.write_bytes(b"")
    targets = cold_start_targets(empty)
    relative = platform_targets() + first_call_targets()
    for cmd in [c for _, c, _ in targets] + [c for _, *cs in relative for c in cs]:
        timed(cmd)  # warm the .pyc caches and the page cache once
    base = median_ms([sys.executable, "-c", "pass"])
    print(f"== cold start, median of 9 (goal <= +{COLD_START_GOAL_MS} ms)")
    print(f"{'python -c pass (baseline)':<46}{base:7.1f} ms")
    for label, cmd, goal in targets:
        _line(label, median_ms(cmd), base, goal=goal)
    print("-- each over its baseline: what the platform imported before the function (Lambda:")
    print("   nothing; Azure worker: azure.functions; GCP server: functions_framework), and for")
    print("   import + 1st delivery (in-memory stores, no SDK) the delivery read")
    for label, cmd, baseline in relative:
        ms, own = median_pair_ms(cmd, baseline)
        _line(label, ms, own, f" (baseline {own:.1f} ms)")


def main() -> None:
    bench_streams()
    bench_memory()
    bench_cold_start()
    invocations = ROOT / "scripts" / "bench" / "invocations.py"
    if invocations.exists():
        subprocess.run([sys.executable, str(invocations)], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
