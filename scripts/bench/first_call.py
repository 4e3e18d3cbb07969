"""One cold start of a cloud function as far as its first answer, in this fresh process: what the
platform has loaded before it imports the function (nothing on Lambda; azure.functions for the
Azure worker; functions_framework, flask and cloudevents for the GCP server), then the real
entrypoint imported the way the platform imports it, its components made with in-memory stores
(the whole bundled pack loaded; no cloud SDK), and its first invocation on a small delivery.
`make bench` times the whole process (scripts/bench/run.py); this prints nothing on success.

    python scripts/bench/first_call.py CLOUD DELIVERY.pickle EVENTS [--bare]

DELIVERY.pickle is the payload (run.py builds it before timing); EVENTS the number of audit
records it carries, checked against the pipeline's report. --bare stops before importing the
entrypoint: the baseline of the same process (the platform's preload and the delivery read).
"""

from __future__ import annotations

import pickle
import sys
from collections import Counter
from pathlib import Path

PRELOADED = {"aws": (), "azure": ("azure.functions",), "gcp": ("functions_framework",)}


def main(argv: list[str]) -> int:
    cloud, path, events = argv[0], Path(argv[1]), int(argv[2])
    for name in PRELOADED[cloud]:
        __import__(name)
    payload = pickle.loads(path.read_bytes())  # noqa: S301 - made by run.py just before
    if "--bare" in argv:
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from scripts.bench import harness

    module, entry = harness.load_entry(cloud)
    from kubetrail.rules import RuleSet
    from kubetrail.rules.deployed import deployed_rules

    counts: Counter[str] = Counter()
    harness.in_memory(module, RuleSet(deployed_rules(harness.ROOT / "functions" / cloud)), counts)
    entry(payload)
    if counts["records"] != events or counts["failed"]:
        print(f"first_call {cloud}: {dict(counts)} for {events} records", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
