"""`make bench`, part 4: the per-invocation throughput of each cloud function's REAL entrypoint
(functions/aws/handler.py `lambda_handler`, functions/azure/function_app.py `kubetrail_audit`,
functions/gcp/main.py `handle`) on realistic deliveries (scripts/bench/deliveries.py), with the
whole bundled rule pack, in two modes:

  in-memory   Components built here like each settings' `build`: SQLite `:memory:` dedup, a
              publisher and a dead-letter sink that serialize and keep nothing
  emulators   the function's own `build` from settings pointing at the moto server, Azurite +
              the Event Grid stand-in, or the gcloud Pub/Sub + Firestore emulators (started and
              stopped here)

Each row: ms per delivery and events/s (best of a few passes, each pass on an empty dedup store,
after one warm-up delivery), next to the baseline measured on the same deliveries in the same
run: unwrapping the delivery and `orjson.loads` of every JSON document in it. Sizes grow
(CloudWatch 0.1 / 1 / 5 MB inflated, Event Hub batches of 10 / 100 / 500 bodies) to show what an
invocation costs and what an event costs. A full run writes bench-data/invocations.json and
prints the cost model (scripts/bench/cost.py) computed from it.

    python scripts/bench/invocations.py [--quick] [--mode memory|emulators|all]
                                        [--clouds aws,azure,gcp] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.bench import deliveries, harness  # noqa: E402
from tests.synthetic import events  # noqa: E402

CLOUDS = ("aws", "azure", "gcp")
SKIP = 1000  # measured deliveries start this far into the stream; warm-ups use its head
# (size, deliveries per pass): CloudWatch MB inflated, Event Hub bodies, Pub/Sub messages
FULL = {"memory": {"aws": [(0.1, 20), (1.0, 5), (5.0, 2)], "azure": [(10, 10), (100, 2),
                                                                     (500, 1)],
                   "gcp": [(1, 300)]},
        "emulators": {"aws": [(0.1, 10), (1.0, 3), (5.0, 1)], "azure": [(10, 5), (100, 1),
                                                                        (500, 1)],
                      "gcp": [(1, 100)]}}
QUICK = {"aws": [(0.1, 2)], "azure": [(10, 1)], "gcp": [(1, 5)]}
# A full run adds one row per cloud of deliveries that are all DaemonSet creates: what findings
# cost (dedup claims and publishes, on the emulators over loopback HTTP).
CREATES = {"aws": (0.1, 1, True), "azure": (1, 1, True), "gcp": (1, 20, True)}
LABELS = {"aws": "CloudWatch {:g} MB", "azure": "Event Hub {:g} bodies", "gcp": "Pub/Sub {:g} msg"}


def build(cloud: str, size: float, count: int, creates: bool = False
          ) -> list[deliveries.Delivery]:
    """The deliveries of one row: the realistic mix, or only DaemonSet creates (by several
    people in several namespaces: every event a match, some deduplicated, the rest published)."""
    source = events(10**9, seed=5, daemonset_every=1) if creates else None
    if cloud == "aws":
        return deliveries.cloudwatch(size, count, SKIP, source)
    if cloud == "azure":
        return deliveries.eventhub(int(size), count, SKIP, source=source)
    return deliveries.pubsub(count, SKIP, source)


def warmup(cloud: str) -> deliveries.Delivery:
    """A small delivery from the stream's head: builds lazy clients and caches before timing."""
    if cloud == "aws":
        return deliveries.cloudwatch(0.02, 1, 0)[0]
    if cloud == "azure":
        return deliveries.eventhub(1, 1, 0, records=10)[0]
    return deliveries.pubsub(1, 0)[0]


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """fd 1 to /dev/null: the functions' log and metric lines are written (their cost is part of
    an invocation) but not shown."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def timed(run: Callable[[], None], clock: Callable[[], float]) -> float:
    """Seconds `run()` took on `clock`."""
    start = clock()
    run()
    return clock() - start


def invoke_all(entry: harness.Entry, batch: list[deliveries.Delivery]) -> None:
    """Each delivery to the entrypoint, in order (one invocation each)."""
    for delivery in batch:
        entry(delivery.payload)


def decode_all(cloud: str, batch: list[deliveries.Delivery]) -> None:
    """The baseline's work on each delivery."""
    for delivery in batch:
        deliveries.decode_only(cloud, delivery.payload)


Plan = list[tuple[float, int] | tuple[float, int, bool]]


def measure(cloud: str, mode: str, plan: Plan, runs: int,
            prepare: Callable[[Any, Counter[str]], None]) -> list[dict[str, Any]]:
    """Rows for one cloud and mode; `prepare(module, counts)` gives the module fresh stores.
    In memory the work is all on this process's CPU: its CPU time is timed (steady on a shared
    machine); against the emulators, waiting is part of the work: wall time."""
    clock = time.process_time if mode == "in-memory" else time.perf_counter
    module, entry = harness.load_entry(cloud)
    warm, rows = warmup(cloud), []
    for size, count, *flags in plan:
        creates = bool(flags and flags[0])
        batch = build(cloud, size, count, creates)
        best, base, kept = float("inf"), float("inf"), Counter[str]()
        for _ in range(runs):  # function and baseline interleaved: both meet the same load
            counts: Counter[str] = Counter()
            prepare(module, counts)
            with quiet():
                entry(warm.payload)
                counts.clear()
                elapsed = timed(functools.partial(invoke_all, entry, batch), clock)
            if elapsed < best:
                best, kept = elapsed, counts
            base = min(base, timed(functools.partial(decode_all, cloud, batch), clock))
        events = sum(d.events for d in batch)
        rows.append({
            "cloud": cloud, "mode": mode, "size": size,
            "mix": "creates" if creates else "realistic",
            "label": LABELS[cloud].format(size) + (" creates" if creates else ""),
            "deliveries": count, "events": events / count,
            "audit_bytes": sum(d.audit_bytes for d in batch) / count,
            "wire_bytes": sum(d.wire_bytes for d in batch) / count,
            "clock": "cpu" if mode == "in-memory" else "wall",
            "ms": best * 1000 / count, "events_per_s": events / best,
            "orjson_ms": base * 1000 / count,
            **{k: kept[k] / count for k in ("matches", "findings", "dedup_claim",
                                            "publish_requests", "dead_letters")},
            "exact": kept["records"] == events and kept["failed"] == 0,
        })
    return rows


def memory_rows(cloud: str, plan: Plan, runs: int) -> list[dict[str, Any]]:
    """Rows with in-memory stores (the rules loaded once, as an instance keeps them)."""
    from kubetrail.rules import RuleSet, load_rules

    rules = RuleSet(load_rules())
    return measure(cloud, "in-memory", plan, runs,
                   lambda module, counts: harness.in_memory(module, rules, counts))


def emulator_rows(cloud: str, plan: Plan, runs: int) -> list[dict[str, Any]]:
    """Rows against the cloud's emulators, started here and stopped after."""
    from scripts.bench import emulated

    with tempfile.TemporaryDirectory(prefix=f"kubetrail-bench-{cloud}-") as tmp, \
            emulated.STARTERS[cloud](Path(tmp)) as fresh:
        def prepare(module: Any, counts: Counter[str]) -> None:
            fresh()
            harness.from_settings(module, counts)
        return measure(cloud, "emulators", plan, runs, prepare)


HEADER = (f"{'cloud':<6}{'stores':<11}{'delivery':<30}{'events':>7}{'audit KB':>9}"
          f"{'ms/deliv':>10}{'events/s':>10}{'orjson ms':>10}{'x orjson':>9}{'claims':>7}"
          f"{'findings':>9}")


def print_rows(rows: list[dict[str, Any]]) -> None:
    """One line per row under HEADER; a row whose records do not add up says so."""
    for r in rows:
        flag = "" if r["exact"] else "  CHECK: records or failures do not add up"
        print(f"{r['cloud']:<6}{r['mode']:<11}{r['label']:<30}{r['events']:>7.0f}"
              f"{r['audit_bytes'] / 1000:>9.0f}{r['ms']:>10.2f}{r['events_per_s']:>10,.0f}"
              f"{r['orjson_ms']:>10.2f}{r['ms'] / r['orjson_ms']:>8.1f}x"
              f"{r['dedup_claim']:>7.1f}{r['findings']:>9.1f}{flag}", flush=True)


def run(clouds: list[str], modes: list[str], quick: bool,
        plans: dict[str, Plan] | None = None) -> list[dict[str, Any]]:
    """Measure and print; the rows. `plans` replaces the sizes (the smoke test's tiny ones)."""
    from kubetrail.rules import load_rules

    runs = 1 if quick else 5
    print(f"== per-invocation throughput: the real entrypoints, {len(load_rules())} bundled "
          f"rule(s), best of {runs} (in-memory: CPU time; emulators: wall time)\n"
          "   baseline 'orjson': unwrap the delivery and orjson.loads every JSON document in it")
    print(HEADER)
    rows: list[dict[str, Any]] = []
    for mode in modes:
        for cloud in clouds:
            plan: Plan = list((plans or (QUICK if quick else FULL[mode]))[cloud])
            if not (plans or quick):
                plan.append(CREATES[cloud])
            if mode == "memory":
                got = memory_rows(cloud, plan, runs)
            else:
                from scripts.bench.emulated import missing

                why = missing(cloud)
                if why:
                    print(f"{cloud:<6}emulators  skipped: {why}")
                    continue
                try:
                    got = emulator_rows(cloud, plan, 1 if quick else 3)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:  # e.g. an emulator that cannot start here (the
                    # tests' helpers fail with pytest's BaseException): say so, go on
                    print(f"{cloud:<6}emulators  skipped: {type(exc).__name__}: {exc}"[:300])
                    continue
            print_rows(got)
            rows.extend(got)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny deliveries, one pass")
    parser.add_argument("--mode", choices=("memory", "emulators", "all"), default="all")
    parser.add_argument("--clouds", default=",".join(CLOUDS))
    parser.add_argument("--json", type=Path, help="write the rows here (default for a full "
                        "run: bench-data/invocations.json)")
    args = parser.parse_args(argv)
    modes = ["memory", "emulators"] if args.mode == "all" else [args.mode]
    rows = run([c for c in args.clouds.split(",") if c], modes, args.quick)
    out = args.json or (None if args.quick else ROOT / "bench-data" / "invocations.json")
    if out:
        import json

        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=1))
    if not args.quick:
        from scripts.bench import cost

        cost.print_report(rows)
    return 0 if all(r["exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
