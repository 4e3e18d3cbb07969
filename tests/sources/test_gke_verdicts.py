"""The verdicts of GKE entries, worked out per key and kept in a table per rule set
(sources/gke_verdicts.py), are each line's own: one rule set's table never answers for another,
and the table stays bounded."""

from __future__ import annotations

import pytest

from kubetrail.rules.network import PUBLIC_SOURCE_IPS
from kubetrail.rules.prefilter import Prefilter
from kubetrail.sources import gke_verdicts
from kubetrail.sources.pubsub_batch import CANDIDATE, PREFILTERED, push_verdicts
from kubetrail.sources.pubsub_fast import gke_prefilter
from tests.sources.test_pubsub_batch import PREFILTER, one_by_one, stream
from tests.sources.test_pubsub_fast import entry, line


def test_each_rule_set_keeps_its_own_verdicts() -> None:
    """The verdicts worked out per key are kept per prefilter: judging the same lines under two
    rule sets in turn gives each its own answers."""
    lines = stream(400, seed=13)
    daemonsets = Prefilter(({"verb": frozenset({"create"}),
                             "resource": frozenset({"daemonsets"})},))
    users = Prefilter(({"username": frozenset({"system:anonymous"})},
                       {"response_code": frozenset({403}), "source_ips": PUBLIC_SOURCE_IPS}))
    for _ in range(2):
        for prefilter in (PREFILTER, daemonsets, users):
            found = push_verdicts(lines, prefilter)
            assert found == one_by_one(lines, prefilter)
            assert PREFILTERED in found and CANDIDATE in found


def test_the_table_of_verdicts_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gke_verdicts, "_TABLE_MAX", 40)
    reduced = gke_prefilter(PREFILTER)
    assert reduced is not None
    lines = [line(entry(user=f"user{i}@example.com", ip=f"34.1.{i % 200}.1",
                        code=[None, 7][i % 2])) for i in range(600)]
    for start in range(0, len(lines), 100):
        part = lines[start:start + 100]
        assert push_verdicts(part, PREFILTER) == one_by_one(part)
        assert len(gke_verdicts._plans(reduced).table) <= 40 + 100
