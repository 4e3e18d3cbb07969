"""Shared test helpers: the copied corpus, the delivery envelopes built around its records
exactly as each cloud sends them, and small outcome utilities."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from kubetrail.errors import Origin
from kubetrail.events import AuditEvent
from kubetrail.rules import RuleSet, load_rules
from kubetrail.sources.base import Decoded, Failure, Outcome, Prefiltered, Skip
from tests.factories import SEED_RULE

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
ORIGIN = Origin("test")
EKS_GROUP = "/aws/eks/prod-eks-01/cluster"
EKS_STREAM = "kube-apiserver-audit-0123456789abcdef0123456789abcdef"


def corpus_lines(rel: str) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines corpus file."""
    return [orjson.loads(line) for line in (CORPUS / rel).read_bytes().splitlines() if line]


def corpus_doc(rel: str) -> Any:
    """A whole-file corpus document (a UTF-8 BOM, as some real files have, removed)."""
    return orjson.loads((CORPUS / rel).read_bytes().removeprefix(b"\xef\xbb\xbf"))


def native(event: Mapping[str, Any]) -> dict[str, Any]:
    """A Panther-shaped record without Panther's p_* enrichment: what the cloud delivered."""
    return {k: v for k, v in event.items() if not k.startswith("p_")}


def eks_messages(n: int | None = None) -> list[str]:
    """Real-shaped EKS audit Events (Panther's EKS tests, p_* removed) as CloudWatch messages."""
    events = corpus_lines("eks/panther-analysis_eks-audit-events.jsonl")[:n]
    return [orjson.dumps(native(e)).decode() for e in events]


def awslogs(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Wrap a (hand-built) CloudWatch Logs payload the way Lambda receives it."""
    data = base64.b64encode(gzip.compress(orjson.dumps(payload))).decode()
    return {"awslogs": {"data": data}}


def eventhub_body(records: Iterable[Mapping[str, Any]]) -> bytes:
    """An Event Hub event body as AKS diagnostic settings publish it."""
    return orjson.dumps({"records": list(records)})


def pubsub_push(entry: Mapping[str, Any] | bytes, message_id: str = "4711") -> dict[str, Any]:
    """A Pub/Sub push request body carrying one LogEntry (as a Log Router sink publishes it)."""
    data = entry if isinstance(entry, bytes) else orjson.dumps(entry)
    return {"message": {"attributes": {"logging.googleapis.com/timestamp": "2024-01-01T00:00:00Z"},
                        "data": base64.b64encode(data).decode(), "messageId": message_id,
                        "publishTime": "2024-01-01T00:00:01.5Z"},
            "subscription": "projects/p/subscriptions/kubetrail"}


def cloudevent(data: Any, kind: str = "google.cloud.pubsub.topic.v1.messagePublished"
               ) -> dict[str, Any]:
    """An Eventarc CloudEvent in structured JSON form."""
    return {"specversion": "1.0", "id": "4711", "type": kind,
            "source": "//pubsub.googleapis.com/projects/p/topics/gke-audit",
            "datacontenttype": "application/json", "time": "2024-01-01T00:00:01.5Z",
            "data": data}


def events(outcomes: Iterable[Outcome]) -> list[AuditEvent]:
    """The AuditEvents among outcomes."""
    return [o.event for o in outcomes if isinstance(o, Decoded)]


def only(outcomes: Iterable[Outcome]) -> Outcome:
    """The single outcome."""
    got = list(outcomes)
    assert len(got) == 1, got
    return got[0]


def only_event(outcomes: Iterable[Outcome]) -> AuditEvent:
    """The single outcome, which must be Decoded."""
    outcome = only(outcomes)
    assert isinstance(outcome, Decoded), outcome
    return outcome.event


def kinds(outcomes: Iterable[Outcome]) -> list[str]:
    """`Decoded` / `Prefiltered` / `Skip:<reason>` / `Failure` per outcome, for compact asserts."""
    out = []
    for o in outcomes:
        if isinstance(o, Skip):
            out.append(f"Skip:{o.reason}")
        else:
            assert isinstance(o, Decoded | Prefiltered | Failure)
            out.append(type(o).__name__)
    return out


def failure(outcomes: Iterable[Outcome]) -> Failure:
    """The first Failure among outcomes."""
    return next(o for o in outcomes if isinstance(o, Failure))


RULES = RuleSet(load_rules([SEED_RULE]))
PACK = RuleSet(load_rules())  # the whole bundled pack


def findings(outcomes: Iterable[Outcome]) -> list[tuple[str, str, str]]:
    """(rule id, origin, title) of every match of the bundled rules."""
    out = []
    for o in outcomes:
        if isinstance(o, Decoded):
            matches, _ = RULES.evaluate(o.event, o.origin)
            out.extend((m.rule.rule_id, str(o.origin), m.title) for m in matches)
    return out
