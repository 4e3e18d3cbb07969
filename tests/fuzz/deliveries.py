"""Wrap (possibly mutated) record texts the way each platform delivers them, and decode the
delivery with kubetrail's real entry points: a JSON-lines file read by `read_paths`, a Lambda
CloudWatch Logs event, an Event Hub body, Pub/Sub push requests and Eventarc CloudEvents."""

from __future__ import annotations

import base64
import gzip
import itertools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import orjson

from kubetrail.errors import Origin
from kubetrail.rules.prefilter import Prefilter
from kubetrail.sources import (
    decode_awslogs,
    decode_cloudevent,
    decode_document,
    decode_eventhub_body,
    read_paths,
)
from kubetrail.sources.base import Outcome

ORIGIN = Origin("fuzz")
Decode = Callable[[Prefilter | None], Iterator[Outcome]]


def as_json_string(text: bytes) -> bytes:
    """`text` as a JSON string literal (invalid UTF-8 replaced: a string can only hold text)."""
    return orjson.dumps(text.decode("utf-8", "replace"))


def cloudwatch_payload(messages: Sequence[bytes]) -> bytes:
    events = b",".join(b'{"id":"%d","timestamp":1718100000000,"message":%s}'
                       % (i, as_json_string(m)) for i, m in enumerate(messages))
    return (b'{"messageType":"DATA_MESSAGE","owner":"111122223333",'
            b'"logGroup":"/aws/eks/fuzz-cluster/cluster",'
            b'"logStream":"kube-apiserver-audit-0123456789abcdef",'
            b'"subscriptionFilters":["kubetrail"],"logEvents":[' + events + b"]}")


def lambda_event(payload: bytes) -> bytes:
    data = base64.b64encode(gzip.compress(payload, mtime=0))
    return b'{"awslogs":{"data":"' + data + b'"}}'


def eventhub_body(records: Sequence[bytes]) -> bytes:
    return b'{"records":[' + b",".join(records) + b"]}"


def pubsub_push(entry: bytes, message_id: int) -> bytes:
    return (b'{"message":{"data":"' + base64.b64encode(entry) + b'","messageId":"%d",'
            b'"publishTime":"2024-06-11T12:40:21.47Z"},'
            b'"subscription":"projects/p/subscriptions/kubetrail"}' % message_id)


def file_decoder(tmp: Path, lines: Sequence[bytes], *, gzipped: bool = False) -> Decode:
    data = b"\n".join(lines) + b"\n"
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / ("fuzz.jsonl.gz" if gzipped else "fuzz.jsonl")
    path.write_bytes(gzip.compress(data, mtime=0) if gzipped else data)
    return lambda prefilter: read_paths([path], prefilter)


def bytes_decoder(documents: Sequence[bytes]) -> Decode:
    """Documents that kubetrail recognizes by their shape (decode_document)."""
    return lambda prefilter: itertools.chain.from_iterable(
        decode_document(d, ORIGIN.child(str(i)), prefilter) for i, d in enumerate(documents))


def awslogs_decoder(event: bytes) -> Decode:
    return lambda prefilter: decode_awslogs(event, ORIGIN, prefilter)


def eventhub_decoder(bodies: Sequence[bytes]) -> Decode:
    return lambda prefilter: itertools.chain.from_iterable(
        decode_eventhub_body(b, ORIGIN.child(str(i)), prefilter) for i, b in enumerate(bodies))


def cloudevent_decoder(entries: Sequence[bytes]) -> Decode:
    """Eventarc CloudEvents as functions_framework hands them over (data already parsed)."""
    def decode(prefilter: Prefilter | None) -> Iterator[Outcome]:
        for i, entry in enumerate(entries):
            ce = {"specversion": "1.0", "id": str(i), "source": "//pubsub.googleapis.com/x",
                  "type": "google.cloud.pubsub.topic.v1.messagePublished",
                  "data": {"message": {"data": base64.b64encode(entry).decode(),
                                       "messageId": str(i)}}}
            yield from decode_cloudevent(ce, ORIGIN.child(str(i)), prefilter)
    return decode
