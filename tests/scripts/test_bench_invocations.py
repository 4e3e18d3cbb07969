"""The per-invocation benchmark (scripts/bench/invocations.py) on tiny deliveries with in-memory
stores, so that it cannot rot: it must keep driving each cloud's real entrypoint with a delivery
built as the platform builds it, account for every record, and its injected stores must be the
ones the function uses."""

from __future__ import annotations

from collections import Counter

from kubetrail.rules import RuleSet, load_rules
from scripts.bench import deliveries, harness, invocations
from tests.synthetic import events

TINY: dict[str, list[tuple[float, int]]] = {"aws": [(0.02, 1)], "azure": [(2, 1)],
                                             "gcp": [(1, 3)]}


def test_in_memory_run_times_every_cloud_and_accounts_for_every_record() -> None:
    rows = invocations.run(list(invocations.CLOUDS), ["memory"], quick=True, plans=TINY)
    assert [(r["cloud"], r["mode"]) for r in rows] == [
        ("aws", "in-memory"), ("azure", "in-memory"), ("gcp", "in-memory")]
    for row in rows:
        assert row["exact"], row  # every delivered record reached the pipeline, none failed
        assert row["events"] >= 1 and row["audit_bytes"] > 0
        assert row["ms"] > 0 and row["orjson_ms"] > 0 and row["events_per_s"] > 0
    assert [r["events"] for r in rows][1:] == [2 * deliveries.RECORDS_PER_BODY, 1]
    assert [r["label"] for r in rows] == ["CloudWatch 0.02 MB", "Event Hub 2 bodies",
                                          "Pub/Sub 1 msg"]


def test_the_same_daemonset_creates_reach_the_injected_stores_through_each_entrypoint() -> None:
    creates = list(events(12, seed=3, daemonset_every=1))  # every event a DaemonSet create
    built = {"aws": deliveries.cloudwatch(1.0, 1, source=creates),
             "azure": deliveries.eventhub(1, 1, records=len(creates), source=creates),
             "gcp": deliveries.pubsub(len(creates), source=creates)}
    rules = RuleSet(load_rules())
    seen: dict[str, Counter[str]] = {}
    for cloud, batch in built.items():
        module, entry = harness.load_entry(cloud)
        counts: Counter[str] = Counter()
        harness.in_memory(module, rules, counts)
        with invocations.quiet():
            for delivery in batch:
                entry(delivery.payload)
        seen[cloud] = counts
    for cloud, counts in seen.items():
        assert counts["records"] == len(creates) and counts["failed"] == 0, (cloud, counts)
        assert counts["matches"] >= 1 and counts["dedup_claim"] == counts["matches"], cloud
        assert counts["findings"] >= 1 and counts["publish_requests"] >= 1, cloud
    # The same k8s Event JSON on EKS and AKS: the same matches. (The synthetic GKE entry has no
    # requestURI, so a dry-run create is not recognisable there: GKE may match more.)
    aws, azure = seen["aws"], seen["azure"]
    assert (aws["matches"], aws["findings"]) == (azure["matches"], azure["findings"]), seen
