"""The whole copied corpus: every record decodes, or is skipped for its documented reason."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kubetrail.sources import read_paths
from kubetrail.sources.base import Decoded, Failure, Skip
from tests.sources.helpers import CORPUS

# file → (decoded, {skip reason: positions}) — the skips are the documented ones.
EXPECTED: dict[str, tuple[int, dict[str, list[str]]]] = {
    "aks/panther-analysis_aks-diagnostic-records.jsonl": (34, {}),
    "aks/sumologic-docs_kube-audit-admin_record.json": (1, {}),
    "aks/sumologic-docs_kube-audit_record.json": (1, {}),
    "aks/sysdiglabs-aks-audit-log_eventhub-body.json": (22, {}),
    "aks/sysdiglabs-aks-audit-log_single-record.json": (1, {}),
    "aks/sysdiglabs-aks-audit-log_unwrapped-audit-event.json": (1, {}),
    "eks/panther-analysis_eks-audit-events.jsonl": (186, {}),
    "eks/sumologic-docs_eks-control-plane_cloudwatch-envelope.json": (1, {}),
    # no protoPayload: the LogEntry was trimmed by its authors
    "gke/grafana-loki_pubsub-push-envelope.json": (0, {"not-k8s-audit": ["5187581549398349"]}),
    "gke/khi_gke-audit-logentries.jsonl": (3, {}),
    "gke/otel-contrib_gke-k8s-activity-logentry.json": (1, {}),
    # hand-written tests without protoPayload.serviceName (and without p_log_type)
    "gke/panther-analysis_gke-logentries.jsonl": (41, {"not-k8s-audit": [
        "1", "2", "3", "4", "5", "6", "7", "8", "9", "18"]}),
    # the GKE cluster API (container.googleapis.com), not the Kubernetes API server
    "negative/otel-contrib_gke-cluster-api-getcluster_NOT-k8s-audit.json": (
        0, {"not-k8s-audit": [""]}),
}


def test_every_corpus_record_decodes_or_is_skipped_for_its_documented_reason() -> None:
    files = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.json*"))
    assert files == sorted(EXPECTED)
    for rel, (decoded, skips) in EXPECTED.items():
        outcomes = list(read_paths([CORPUS / rel]))
        failures = [(o.origin, o.reason) for o in outcomes if isinstance(o, Failure)]
        assert failures == [], rel
        assert sum(isinstance(o, Decoded) for o in outcomes) == decoded, rel
        got: dict[str, list[str]] = {}
        for o in outcomes:
            if isinstance(o, Skip):
                got.setdefault(o.reason, []).append(o.origin.position)
        assert got == skips, rel


def test_decoded_corpus_events_are_complete() -> None:
    outcomes = list(read_paths(sorted(CORPUS.rglob("*.json*"))))
    events = [o.event for o in outcomes if isinstance(o, Decoded)]
    assert Counter(e.cloud for e in events) == {"aws": 188, "azure": 59, "gcp": 45}
    captures = [o.event for o in outcomes
                if isinstance(o, Decoded) and "panther" not in o.origin.source]
    assert len(captures) == 31  # the real (non hand-written) records all carry a time
    assert all(e.time is not None and e.time.utcoffset() is not None for e in captures)
    assert all(e.username and (e.verb or e.request_uri) for e in captures)
    daemonset_creates = [e for e in events if e.verb == "create" and e.resource == "daemonsets"]
    assert len(daemonset_creates) == 5  # EKS 3, AKS 1, GKE 1 (all hand-written by Panther)


def test_provenance_lists_every_copied_file_and_no_elastic_license_file() -> None:
    provenance = (CORPUS / "PROVENANCE.md").read_text(encoding="utf-8")
    for path in CORPUS.rglob("*.json*"):
        rel = str(path.relative_to(CORPUS))
        assert f"### `{rel}`" in provenance and f"| `{rel}` |" in provenance
        assert not rel.split("/")[1].startswith("elastic-")
    rows = [line for line in provenance.splitlines() if line.startswith("| ") and "`" in line]
    assert all("Apache-2.0" in row or "| MIT |" in row for row in rows)
    assert not any("Elastic License" in row for row in rows)


def test_corpus_is_self_contained() -> None:
    assert not any("/work/shared" in p.read_text(errors="replace")
                   for p in CORPUS.rglob("*.json*"))
    assert Path(__file__).resolve().parents[1] / "corpus" == CORPUS
