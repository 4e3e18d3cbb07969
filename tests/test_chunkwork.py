"""A chunk read and evaluated as a `--jobs` worker does it, sent and received as the scan's process
does: each matched record's event arrives pickled, with only the fields a dedup claim reads set,
and is the worker's own event once anything else is read from it."""

from __future__ import annotations

import pickle
from pathlib import Path

import orjson
import pytest

from kubetrail.chunkwork import PendingEvent, claimed_fields, dumps, outcomes, run_chunk
from kubetrail.events import AuditEvent
from kubetrail.record import fields
from kubetrail.rules import RuleSet, load_rules
from kubetrail.rules.engine import RuleSet as Rules
from kubetrail.rules.loader import distinct_value
from kubetrail.sources.base import Evaluated
from scripts.bench.streams import stream


@pytest.fixture(scope="module")
def rules() -> Rules:
    return RuleSet(load_rules())


def _evaluated(path: Path, rules: Rules) -> tuple[list[Evaluated], list[Evaluated]]:
    """(what a worker sends, received by the scan's process; what one process makes of it)."""
    chunk = run_chunk(path, "x", 0, None, rules, rules.prefilter, 1 << 30)
    received = [o for o in outcomes(pickle.loads(dumps(chunk)), 0, rules)
                if isinstance(o, Evaluated) and o.event is not None]
    direct = [o for o in outcomes(chunk, 0, rules)
              if isinstance(o, Evaluated) and o.event is not None]
    return received, direct


def test_a_claim_reads_a_matched_event_without_unpickling_it(tmp_path: Path,
                                                              rules: Rules) -> None:
    path = tmp_path / "secrets.jsonl"
    path.write_bytes(stream("eks-metadata", 2000, tmp_path).read_bytes() + b"".join(
        orjson.dumps({"kind": "Event", "verb": "get", "user": {"username": "alice"},
                      "objectRef": {"resource": "secrets", "namespace": f"ns{i % 3}",
                                    "name": f"s{i}"}, "responseStatus": {"code": 200},
                      "stageTimestamp": "2026-11-27T10:00:00.000000Z"}) + b"\n"
        for i in range(20)))
    received, _ = _evaluated(path, rules)
    assert {m.rule.rule_id for e in received for m in e.matches} >= {
        "Kubernetes.Secret.AccessDenied", "Kubernetes.BulkSecretAccess"}
    assert claimed_fields(rules) == ("time", "name", "namespace")  # BulkSecretAccess' Distinct
    for outcome in received:
        event = outcome.event
        assert isinstance(event, PendingEvent)
        assert event.time is not None
        for match in outcome.matches:
            if match.rule.distinct:
                assert distinct_value(event, match.rule.distinct)
        assert object.__getattribute__(event, "_pickled") is not None  # still not unpickled


def test_a_pending_event_is_the_workers_event_once_read(tmp_path: Path, rules: Rules) -> None:
    received, direct = _evaluated(stream("eks-request", 5000, tmp_path), rules)
    assert received and len(received) == len(direct)
    names = [f.name for f in fields(AuditEvent)]
    for got, sent in zip(received, direct, strict=True):
        assert got.origin == sent.origin
        assert [(m.rule, m.title, m.dedup_key) for m in got.matches] == [
            (m.rule, m.title, m.dedup_key) for m in sent.matches]
        assert got.event is not None and sent.event is not None
        assert got.event.raw == sent.event.raw  # (the first other field read unpickles it)
        assert object.__getattribute__(got.event, "_pickled") is None
        assert [getattr(got.event, n) for n in names] == [getattr(sent.event, n) for n in names]
        assert got.event.dry_run == sent.event.dry_run
        assert isinstance(got.event, AuditEvent)
    with pytest.raises(AttributeError):
        received[0].event.no_such_field  # type: ignore[union-attr]  # noqa: B018
    again = pickle.loads(pickle.dumps(received[0].event))
    assert [getattr(again, n) for n in names] == [getattr(direct[0].event, n) for n in names]
