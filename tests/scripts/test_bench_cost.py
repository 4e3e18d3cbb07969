"""The cost model (scripts/bench/cost.py) behaves as a bill does: fewer, larger deliveries cost
less per GB in invocations, slower invocations cost more compute, rounding only ever adds, and
findings add their store and publish requests."""

from __future__ import annotations

from typing import Any

from scripts.bench import cost


def row(cloud: str, ms: float, audit_bytes: float, findings: float = 0.0) -> dict[str, Any]:
    return {"cloud": cloud, "mode": "in-memory", "mix": "realistic", "label": "x", "ms": ms,
            "audit_bytes": audit_bytes, "events": audit_bytes / 1000, "wire_bytes": audit_bytes,
            "dedup_claim": findings, "findings": findings}


def test_bigger_deliveries_cost_less_per_gb_in_invocations_and_time_costs_compute() -> None:
    for cloud, (platform, *_) in cost.PLATFORMS.items():
        small = cost.components(row(cloud, 1.0, 100_000), platform)
        large = cost.components(row(cloud, 10.0, 1_000_000), platform)
        assert large["invocations"] * 9.99 < small["invocations"] < large["invocations"] * 10.01
        slow = cost.components(row(cloud, 250.0, 1_000_000), platform)
        assert slow["compute"] > large["compute"] > 0, cloud


def test_rounding_to_100_ms_only_adds_and_findings_add_requests() -> None:
    rounded, exact = cost.PLATFORMS["gcp"]
    assert rounded.round_ms == 100 and exact.round_ms == 0
    one = row("gcp", 0.05, 1100)
    assert cost.components(one, rounded)["compute"] > cost.components(one, exact)["compute"] * 100
    for cloud, (platform, *_) in cost.PLATFORMS.items():
        quiet = cost.components(row(cloud, 10.0, 1_000_000), platform)
        noisy = cost.components(row(cloud, 10.0, 1_000_000, findings=5.0), platform)
        assert noisy["dedup"] > quiet["dedup"] == 0 and noisy["publish"] > quiet["publish"] == 0
