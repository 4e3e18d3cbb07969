"""The deliveries of the per-invocation benchmark, built exactly as each platform hands them to
the function, from the benchmark's realistic streams (scripts/bench/streams.py), and each one's
baseline: the time to merely unwrap it and `orjson.loads` every JSON document it carries.

  aws    a CloudWatch Logs subscription event: `{"awslogs": {"data": base64(gzip(DATA_MESSAGE))}}`
         holding EKS audit Events at Request level, cut at a target *inflated* size (MB)
  azure  an Event Hub trigger batch (`cardinality="many"`): N `func.EventHubEvent`s, each an AKS
         diagnostic-settings body of RECORDS_PER_BODY kube-audit(-admin) records, built with the
         azure-functions worker's own converter
  gcp    one Eventarc `messagePublished` CloudEvent (as functions-framework hands it: attributes
         plus the parsed push body) carrying one GKE LogEntry

`audit_bytes` is the size of the audit records themselves (EKS Event JSON, AKS `properties.log`,
GKE LogEntry JSON): the "GB of audit logs" of the cost model.
"""

from __future__ import annotations

import base64
import gzip
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from scripts.bench.streams import RECORDS_PER_BODY, _aks_record, eks_request_events, gke_entry

EKS_GROUP, EKS_STREAM = "/aws/eks/prod-euw1/cluster", "kube-apiserver-audit-0b1c2d3e4f5a6b7c"
GKE_TOPIC = "//pubsub.googleapis.com/projects/acme-prod/topics/gke-audit"
GKE_SUBSCRIPTION = "projects/acme-prod/subscriptions/eventarc-europe-west1-kubetrail-sub-123"
CW_OVERHEAD = 64  # bytes of DATA_MESSAGE JSON around each message (id, timestamp, quotes)


@dataclass(frozen=True)
class Delivery:
    """One invocation's input (built before any timing) and what it carries."""

    payload: Any
    events: int
    audit_bytes: int
    wire_bytes: int


def _events(skip: int, source: Iterable[dict[str, Any]] | None) -> Iterator[dict[str, Any]]:
    """`source`'s audit events, else the eks-request mix from its `skip`-th event on (warm-ups
    use the head, measurements start further in)."""
    if source is not None:
        return iter(source)
    return itertools.islice(eks_request_events(10**9), skip, None)


def cloudwatch(mb: float, count: int, skip: int = 0,
               source: Iterable[dict[str, Any]] | None = None) -> list[Delivery]:
    """`count` CloudWatch Logs deliveries of ~`mb` MB of inflated DATA_MESSAGE each."""
    from kubetrail.sources.cloudwatch import encode_awslogs

    target, events = int(mb * 1_000_000), _events(skip, source)
    out: list[Delivery] = []
    for _ in range(count):
        messages: list[str] = []
        size = 0
        for ev in events:
            messages.append(orjson.dumps(ev).decode())
            size += len(messages[-1]) + CW_OVERHEAD
            if size >= target:
                break
        event = encode_awslogs(EKS_GROUP, EKS_STREAM, messages)
        out.append(Delivery(event, len(messages), sum(map(len, messages)),
                            len(event["awslogs"]["data"])))
    return out


def eventhub(bodies: int, count: int, skip: int = 0, records: int = RECORDS_PER_BODY,
             source: Iterable[dict[str, Any]] | None = None) -> list[Delivery]:
    """`count` Event Hub trigger batches of `bodies` events, `records` audit records each (or
    fewer in the last body, when `source` runs out)."""
    from kubetrail.local.azure import eventhub_events

    events = _events(skip, source)
    out: list[Delivery] = []
    for n in range(count):
        payloads, audit, carried = [], 0, 0
        for _ in range(bodies):
            batch = [_aks_record(ev) for ev in itertools.islice(events, records)]
            if not batch:
                break
            audit += sum(len(r["properties"]["log"]) for r in batch)
            carried += len(batch)
            payloads.append(orjson.dumps({"records": batch}))
        out.append(Delivery(eventhub_events(payloads, partition="3", first_sequence=n * bodies),
                            carried, audit, sum(map(len, payloads))))
    return out


def pubsub(count: int, skip: int = 0, source: Iterable[dict[str, Any]] | None = None
           ) -> list[Delivery]:
    """`count` CloudEvents, one GKE LogEntry each (consecutive entries of the mix)."""
    from cloudevents.http import CloudEvent

    out: list[Delivery] = []
    for i, ev in enumerate(itertools.islice(_events(skip, source), count)):
        entry = orjson.dumps(gke_entry(ev))
        message_id = str(10**16 + skip + i)
        published = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        message = {"data": base64.b64encode(entry).decode(), "messageId": message_id,
                   "message_id": message_id, "publishTime": published,
                   "publish_time": published,
                   "attributes": {"logging.googleapis.com/timestamp": ev["stageTimestamp"]}}
        attributes = {"specversion": "1.0", "id": message_id, "source": GKE_TOPIC,
                      "type": "google.cloud.pubsub.topic.v1.messagePublished",
                      "datacontenttype": "application/json", "time": published}
        body = {"message": message, "subscription": GKE_SUBSCRIPTION}
        out.append(Delivery(CloudEvent(attributes, body), 1, len(entry),
                            len(orjson.dumps(body))))
    return out


def decode_only(cloud: str, payload: Any) -> int:
    """The baseline: unwrap the delivery and orjson.loads every JSON document in it (envelope
    and each audit record); returns the number of audit records, so nothing is optimized away."""
    if cloud == "aws":
        doc = orjson.loads(gzip.decompress(base64.b64decode(payload["awslogs"]["data"])))
        return sum(1 for e in doc["logEvents"] if orjson.loads(e["message"]))
    if cloud == "azure":
        return sum(1 for e in payload for r in orjson.loads(e.get_body())["records"]
                   if orjson.loads(r["properties"]["log"]))
    if cloud == "gcp":
        return int(bool(orjson.loads(base64.b64decode(payload.get_data()["message"]["data"]))))
    raise ValueError(f"unknown cloud {cloud!r}")
