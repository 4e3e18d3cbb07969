"""The engine's rule dispatch (RequiresIndex.candidates, one dict lookup per event) hands every
rule exactly the events the per-rule checks would: its log types and every Requires, in rule
order. Checked on the bundled pack and on Panther's rules with their side-file Requires, over
the benchmark's four streams, the test corpus and samples, and random field combinations."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from kubetrail import record
from kubetrail.events import AuditEvent
from kubetrail.panther.helpers import panther_root
from kubetrail.rules import Rule, load_rules
from kubetrail.rules.index import MAX_PLANS, RequiresIndex, requires_ok
from kubetrail.sources import read_paths
from kubetrail.sources.base import Decoded
from scripts.bench.streams import KINDS, stream
from tests.factories import make_event
from tests.panther.conftest import CORPUS as PANTHER_ANALYSIS
from tests.rules.test_index import VALUES

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def slow(rules: Sequence[Rule], event: AuditEvent) -> list[str]:
    """What the engine ran before the index: every rule, checked one by one."""
    return [r.rule_id for r in rules if event.log_type in r.log_types and requires_ok(r, event)]


def real_events(tmp_path: Path) -> Iterator[AuditEvent]:
    files = [stream(kind, 4000, tmp_path) for kind in KINDS]
    files += sorted(p for p in CORPUS.rglob("*") if p.suffix in (".json", ".jsonl"))
    files += sorted(p for p in SAMPLES.glob("*") if p.suffix in (".json", ".jsonl", ".gz"))
    for outcome in read_paths(list(map(str, files)), None):
        if isinstance(outcome, Decoded):
            yield outcome.event


def assert_same_dispatch(rules: Sequence[Rule], events: Iterator[AuditEvent]) -> int:
    index = RequiresIndex(rules)
    dispatched = 0
    for event in events:
        got = [r.rule_id for r in index.candidates(event)]
        assert got == slow(rules, event), event
        dispatched += bool(got)
    return dispatched


def test_the_pack_gets_the_events_it_got_before(tmp_path: Path) -> None:
    rules = load_rules()
    assert assert_same_dispatch(rules, real_events(tmp_path)) > 500


def test_random_field_combinations_on_every_log_type() -> None:
    rules = load_rules()
    rng = random.Random(11)
    events = (make_event(log_type=rng.choice(["Amazon.EKS.Audit", "Azure.MonitorActivity",
                                              "GCP.AuditLog"]),
                         **{f: rng.choice(v) for f, v in VALUES.items()}) for _ in range(6000))
    assert assert_same_dispatch(rules, events) > 300


def test_rules_of_one_log_type_and_without_requires_keep_their_place() -> None:
    pack = load_rules()
    gke_only = record.replace(pack[0], rule_id="gke-only", log_types=frozenset(
        {"GCP.AuditLog"}))
    anything = record.replace(pack[1], rule_id="anything", requires={})
    rules = [anything, *pack[2:], gke_only]
    events = (make_event(log_type=lt, verb=verb, resource=res)
              for lt in ("Amazon.EKS.Audit", "GCP.AuditLog")
              for verb in ("get", "create", "update") for res in ("pods", "secrets", None))
    assert assert_same_dispatch(rules, events) == 18


def test_plans_stay_bounded_whatever_the_usernames() -> None:
    rules = load_rules()
    index = RequiresIndex(rules)
    for i in range(MAX_PLANS * 2 + 7):
        event = make_event(username=f"user-{i}", verb="get", resource="secrets",
                           response_code=403)
        assert [r.rule_id for r in index.candidates(event)] == slow(rules, event)
    assert len(index._plans) <= MAX_PLANS
    assert len(index._shapes) == 1  # every one of those usernames is unlisted: one plan


def test_an_unhashable_value_takes_the_rule_by_rule_path() -> None:
    rules = load_rules()
    event = make_event(verb=["create"])  # never made by a decoder
    with pytest.raises(TypeError):  # as the per-rule checks raise: the record's failure
        RequiresIndex(rules).candidates(event)


def test_panther_rules_with_side_file_requires_get_the_events_they_got_before(
        tmp_path: Path) -> None:
    rules_dir = PANTHER_ANALYSIS / "rules"
    if not (PANTHER_ANALYSIS / "global_helpers").is_dir() or not rules_dir.is_dir():
        pytest.skip(f"panther-analysis not found at {PANTHER_ANALYSIS} (set "
                    "KUBETRAIL_PANTHER_ROOT to a checkout): Panther dispatch test skipped")
    rules = load_rules([rules_dir / "kubernetes_rules", rules_dir / "aws_eks_rules",
                        rules_dir / "gcp_k8s_rules"], panther_root=panther_root(PANTHER_ANALYSIS))
    assert any(r.requires_log_types is not None for r in rules)
    rules = [*load_rules(), *rules]
    assert assert_same_dispatch(rules, real_events(tmp_path)) > 500


class EvenLength:
    """A Requires value that is a test, not a list (as `source_ips: [public]` is)."""

    def __init__(self, salt: int) -> None:
        self.salt = salt

    def __contains__(self, value: object) -> bool:
        return (len(value) + self.salt) % 2 == 0 if isinstance(value, tuple) else False


@pytest.mark.parametrize("tests", [1, 3, 9])  # 9: more than a plan combines, rule by rule
def test_residual_checks_in_any_number(tests: int) -> None:
    pack = load_rules()
    checks = [EvenLength(i) for i in range(tests)]
    rules = [*pack[:5], *(record.replace(pack[5 + i % 3], rule_id=f"test-{i}", requires={
        **pack[5 + i % 3].requires, "groups": check}) for i, check in enumerate(checks)),
        *pack[5:]]
    events = (make_event(groups=("g",) * n, verb=verb, resource=res, request_object=body,
                         username=user)
              for n in range(3) for verb in ("get", "create", "update", "patch")
              for res in ("pods", "secrets", "roles", "services")
              for body in VALUES["request_object"] for user in ("alice", "system:node:n1"))
    assert assert_same_dispatch(rules, events) > 100
