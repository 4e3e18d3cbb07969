"""The cost model of docs/performance.md: what kubetrail costs per GB of audit logs on each
cloud, computed from the per-invocation figures `make bench` measured (bench-data/invocations.json,
in-memory rows) and the public list prices below (USD, the cheapest tier beyond the free grants,
which are ignored). Re-run it after a bench on your own machine, or change a price here.

Per delivery size measured, per GB (10^9 bytes of audit records as the API server wrote them):
  invocations  = 1e9 / audit bytes per delivery, times the per-invocation price
  compute      = invocations x billed seconds x memory (and vCPU) prices; the measured time is
                 scaled by the share of a vCPU the configured memory buys (Lambda: memory/1769 MB)
  dedup        = claims and confirms per GB (measured) x store requests each x request price
  publish      = findings per GB (measured) x publish (and delivery) requests x price
  delivery     = what the platform charges to hand the logs to the function, when it is
                 kubetrail's own resource (GCP: the Log Router sink's topic and its push
                 subscription, billed by bytes)

    python scripts/bench/cost.py [bench-data/invocations.json]
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GB = 1e9
TIB = 2**40


@dataclass(frozen=True)
class Price:
    value: float
    unit: str
    source: str


# Prices seen 2026-11-29 (sources as noted; "not re-checked" = from the stated page's known
# list price, not found in a stored copy during this work: verify before relying on it).
PRICES = {
    "lambda_gb_s": Price(0.0000133334, "USD per GB-s, arm64, first 7.5B GB-s/month, us-east-1",
                         "aws.amazon.com/lambda/pricing (copy of 2026-06-18)"),
    "lambda_request": Price(0.20 / 1e6, "USD per request", "aws.amazon.com/lambda/pricing"),
    "dynamodb_write": Price(0.625 / 1e6, "USD per write request unit, on-demand, us-east-1",
                            "AWS, after the 2024-11-01 on-demand price cut"),
    "sns_request": Price(0.50 / 1e6, "USD per publish (64 KB chunk), standard topic",
                         "aws.amazon.com/sns/pricing (not re-checked)"),
    "flex_gb_s": Price(0.000026, "USD per GB-s, Flex Consumption on-demand, East US",
                       "azure.microsoft.com/pricing/details/functions (via a 2025-05 summary)"),
    "flex_execution": Price(0.40 / 1e6, "USD per execution, Flex Consumption on-demand",
                            "azure.microsoft.com/pricing/details/functions (not re-checked)"),
    "table_transaction": Price(0.00036 / 1e4, "USD per Table Storage transaction, LRS",
                               "azure.microsoft.com/pricing/details/storage/tables "
                               "(not re-checked)"),
    "eventgrid_operation": Price(0.60 / 1e6, "USD per Event Grid basic operation",
                                 "azure.microsoft.com/pricing/details/event-grid "
                                 "(not re-checked)"),
    "run_vcpu_s": Price(0.000024, "USD per vCPU-s, request-based billing, Tier 1 region",
                        "cloud.google.com/run/pricing"),
    "run_gib_s": Price(0.0000025, "USD per GiB-s, request-based billing, Tier 1 region",
                       "cloud.google.com/run/pricing"),
    "run_request": Price(0.40 / 1e6, "USD per request", "cloud.google.com/run/pricing"),
    "firestore_read": Price(0.03 / 1e5, "USD per document read, US regional",
                            "cloud.google.com/firestore/pricing (regional; nam5 is 2x)"),
    "firestore_write": Price(0.09 / 1e5, "USD per document write, US regional",
                             "cloud.google.com/firestore/pricing (regional; nam5 is 2x)"),
    "pubsub_byte": Price(40 / TIB, "USD per byte published or delivered (min 1000 B/request)",
                         "cloud.google.com/pubsub/pricing"),
}


@dataclass(frozen=True)
class Platform:
    """How one cloud's function is deployed (infra/<cloud> defaults) and billed."""

    name: str
    memory_gb: float
    vcpu_share: float  # of one vCPU while running (single-threaded Python uses at most one)
    round_ms: float  # billed time is rounded up to this per invocation
    dedup_ops: tuple[float, float]  # (reads, writes) per claim; confirms are one write each
    publish_ops: float  # billed requests per finding (publish + deliveries)


# The Terraform defaults; GCP twice: Cloud Run rounds each busy period up to 100 ms, which with
# concurrency 1 and millisecond messages may bill every message 100 ms (the upper bound), while
# with concurrency > 1 and a steady stream the instance is billed about its busy time.
PLATFORMS = {
    "aws": [Platform("Lambda arm64, 512 MB", 0.5, 512 / 1769, 1, (0, 1), 1)],
    "azure": [Platform("Flex Consumption, 2048 MB", 2.0, 1.0, 1, (1, 1), 2)],
    "gcp": [Platform("Cloud Run fn 512MiB/1vCPU, 100 ms each", 0.5, 1.0, 100, (1, 1), 2),
            Platform("Cloud Run fn 512MiB/1vCPU, busy time", 0.5, 1.0, 0, (1, 1), 2)],
}
FINDING_BYTES = 2000  # a published finding document, about
MESSAGE_OVERHEAD = 120  # Pub/Sub bytes billed beside the data: attributes, id, timestamp


def components(row: dict[str, Any], p: Platform) -> dict[str, float]:
    """USD per GB of audit records for one measured delivery size on one platform."""
    cloud = row["cloud"]
    price = {k: v.value for k, v in PRICES.items()}
    invocations = GB / row["audit_bytes"]
    billed_ms = max(row["ms"] / p.vcpu_share, 1e-9)
    if p.round_ms:
        billed_ms = -(-billed_ms // p.round_ms) * p.round_ms  # round up per invocation
    seconds = invocations * billed_ms / 1000
    claims = invocations * row["dedup_claim"]
    findings = invocations * row["findings"]
    reads, writes = p.dedup_ops
    if cloud == "aws":
        return {"invocations": invocations * price["lambda_request"],
                "compute": seconds * p.memory_gb * price["lambda_gb_s"],
                "dedup": (claims * writes + findings) * price["dynamodb_write"],
                "publish": findings * p.publish_ops * price["sns_request"], "delivery": 0.0}
    if cloud == "azure":
        return {"invocations": invocations * price["flex_execution"],
                "compute": seconds * p.memory_gb * price["flex_gb_s"],
                "dedup": (claims * (reads + writes) + findings) * price["table_transaction"],
                "publish": findings * p.publish_ops * price["eventgrid_operation"],
                "delivery": 0.0}
    # The LogEntry plus attributes and id, at least 1000 B: the sink's publish, then the push.
    per_message = max(row["audit_bytes"] / row["events"] + MESSAGE_OVERHEAD, 1000)
    return {"invocations": invocations * price["run_request"],
            "compute": seconds * (p.vcpu_share * price["run_vcpu_s"]
                                  + p.memory_gb * 1e9 / 2**30 * price["run_gib_s"]),
            "dedup": (claims * reads * price["firestore_read"]
                      + (claims * writes + findings) * price["firestore_write"]),
            "publish": findings * p.publish_ops * FINDING_BYTES * price["pubsub_byte"],
            "delivery": invocations * 2 * per_message * price["pubsub_byte"]}


def print_report(rows: list[dict[str, Any]]) -> None:
    """The cost table for the in-memory rows (the compute a function does, without emulator
    latency; cloud store latency is not modelled)."""
    measured = [r for r in rows if r["mode"] == "in-memory" and r.get("mix") != "creates"]
    if not measured:
        print("cost model: no in-memory rows measured")
        return
    print("== cost per GB of audit records (USD; list prices of scripts/bench/cost.py, free "
          "grants ignored)")
    print(f"{'cloud':<6}{'delivery':<30}{'invocations':>12}{'compute':>9}{'dedup':>8}"
          f"{'publish':>9}{'delivery':>9}{'total':>9}  platform")
    for row in measured:
        for platform in PLATFORMS[row["cloud"]]:
            parts = components(row, platform)
            print(f"{row['cloud']:<6}{row['label']:<30}{parts['invocations']:>12.4f}"
                  f"{parts['compute']:>9.4f}{parts['dedup']:>8.4f}{parts['publish']:>9.4f}"
                  f"{parts['delivery']:>9.4f}{sum(parts.values()):>9.4f}  {platform.name}")


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else ROOT / "bench-data" / "invocations.json"
    if not path.is_file():
        print(f"{path} not found: run `make bench` (or scripts/bench/invocations.py) first",
              file=sys.stderr)
        return 2
    print_report(json.loads(path.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
