"""Seed records for the fuzz suite: every Log of the bundled rules' Tests (positives and the
negatives that matter, on all three clouds) and the copied third-party corpus, each as the native
record its cloud delivers (Panther's p_ fields removed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from kubetrail.rules import load_rules
from tests.sources.helpers import corpus_lines, native

EKS, AKS, GKE = "Amazon.EKS.Audit", "Azure.MonitorActivity", "GCP.AuditLog"


@dataclass(frozen=True)
class Seed:
    """One native record and the family it belongs to (which deliveries can carry it)."""

    log_type: str
    record: Mapping[str, Any]
    name: str

    def text(self) -> bytes:
        return orjson.dumps(self.record)


def _from_rule_tests() -> list[Seed]:
    seeds = []
    for rule in load_rules(include_disabled=True):
        for test in rule.tests:
            log_type = test.log.get("p_log_type")
            if log_type in (EKS, AKS, GKE):
                seeds.append(Seed(str(log_type), native(test.log),
                                  f"{rule.rule_id}: {test.name}"))
    return seeds


def _from_corpus() -> list[Seed]:
    seeds = [Seed(EKS, native(e), "corpus eks")
             for e in corpus_lines("eks/panther-analysis_eks-audit-events.jsonl")]
    seeds += [Seed(AKS, native(r), "corpus aks")
              for r in corpus_lines("aks/panther-analysis_aks-diagnostic-records.jsonl")]
    for rel in ("gke/khi_gke-audit-logentries.jsonl", "gke/panther-analysis_gke-logentries.jsonl"):
        seeds += [Seed(GKE, native(e), f"corpus {rel}") for e in corpus_lines(rel)]
    return seeds


SEEDS: list[Seed] = _from_rule_tests() + _from_corpus()
BY_TYPE = {t: [s for s in SEEDS if s.log_type == t] for t in (EKS, AKS, GKE)}
