"""EKS: a CloudWatch Logs subscription delivery.

Lambda receives `{"awslogs": {"data": base64(gzip(json))}}`; the JSON is
`{"messageType": "DATA_MESSAGE", "owner", "logGroup", "logStream", "subscriptionFilters",
"logEvents": [{"id", "timestamp", "message"}]}` and each message is one audit Event as compact
JSON. One Outcome per log event, origin position `<logGroup>/<logStream>/<event id>`; the cluster
is `<c>` of the log group `/aws/eks/<c>/cluster` (None for any other group).

- CONTROL_MESSAGE (CloudWatch's health check) → one Skip("control-message"); no log events → one
  Skip("empty").
- A subscription on the whole EKS log group also carries the API server's, authenticator's,
  controller managers' and scheduler's own logs (klog text, not audit Events). Their streams
  (`kube-apiserver-<id>`, `authenticator-<id>`, ...) → Skip("not-k8s-audit"). The test is a
  deny-list of EKS's known non-audit stream names, so an unknown stream is decoded, never lost.
- The prefilter sees each message's text before it is parsed (→ Prefiltered). A message that is
  truncated or garbled is one Failure with its text; its batch-mates go on. An envelope that
  cannot be opened (base64, gzip, bomb, JSON) is one Failure for the whole delivery.
"""

from __future__ import annotations

import base64
import gzip
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from kubetrail.errors import DecodeError, Origin
from kubetrail.sources.base import Decoded, Failure, Outcome, Prefiltered, Skip
from kubetrail.sources.common import (
    DEFAULT_MAX_INFLATE,
    GZIP_MAGIC,
    b64decode,
    check_max_inflate,
    cut,
    describe,
    inflate,
    is_mapping,
    loads,
    opt_str,
    type_name,
)
from kubetrail.sources.guard import failure_of, isolated, isolated_stream
from kubetrail.sources.k8s import (
    embedded_audit_event,
    event_from_k8s,
    opt_time,
)
from kubetrail.sources.rawdump import dump

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

NON_AUDIT_STREAM_PREFIXES = (
    "authenticator-", "kube-controller-manager-", "cloud-controller-manager-", "kube-scheduler-",
)


def cluster_from_log_group(log_group: str | None) -> str | None:
    """`/aws/eks/<cluster>/cluster` → `<cluster>`; None for any other log group."""
    if log_group and log_group.startswith("/aws/eks/") and log_group.endswith("/cluster"):
        return log_group[len("/aws/eks/"):-len("/cluster")] or None
    return None


def is_non_audit_stream(log_stream: str | None) -> bool:
    """An EKS control-plane stream known to hold something other than audit Events."""
    if not log_stream:
        return False
    if log_stream.startswith("kube-apiserver-"):
        return not log_stream.startswith("kube-apiserver-audit-")
    return log_stream.startswith(NON_AUDIT_STREAM_PREFIXES)


def _payload(event: Mapping[str, Any] | bytes, max_inflate: int) -> Any:
    if isinstance(event, bytes | bytearray | memoryview):
        data = bytes(event)
        if not data.startswith(GZIP_MAGIC):
            return _payload(loads(data, "Lambda event JSON"), max_inflate)
    elif is_mapping(event):
        awslogs = event.get("awslogs")
        if not is_mapping(awslogs):
            raise DecodeError(f"awslogs: expected an object, got {type_name(awslogs)}")
        data = b64decode(awslogs.get("data"), "awslogs.data")
    else:
        raise DecodeError(f"Lambda event: expected an object, got {type_name(event)}")
    if data.startswith(GZIP_MAGIC):
        data = inflate(data, max_inflate)
    return loads(data, "CloudWatch Logs payload JSON")


def open_awslogs(event: Mapping[str, Any] | bytes, *, max_inflate: int = DEFAULT_MAX_INFLATE
                 ) -> Any:
    """The subscription payload of a Lambda event (base64 decoded, every gzip member inflated
    within `max_inflate`, parsed), for decode_data_message; DecodeError when it does not open."""
    return _payload(event, max_inflate)


def awslogs_failure(event: Mapping[str, Any] | bytes, exc: Exception, origin: Origin) -> Failure:
    """The delivery's one Failure when `open_awslogs` raised `exc` (the event kept, cut, for the
    dead-letter path): what decode_awslogs yields then, for a caller that opened it itself."""
    if not isinstance(exc, DecodeError):
        return failure_of(exc, origin, event)
    return Failure(exc.message, origin, cut(event if isinstance(event, bytes | bytearray)
                                            else dump(event)))


@isolated_stream
def decode_awslogs(
    event: Mapping[str, Any] | bytes, origin: Origin, prefilter: Prefilter | None = None,
    *, max_inflate: int = DEFAULT_MAX_INFLATE,
) -> Iterator[Outcome]:
    """Decode a Lambda CloudWatch Logs event (or its JSON bytes, or the gzip payload itself)."""
    check_max_inflate(max_inflate)
    try:
        message = open_awslogs(event, max_inflate=max_inflate)
    except DecodeError as exc:
        yield awslogs_failure(event, exc, origin)
        return
    yield from decode_data_message(message, origin, prefilter)


@isolated_stream
def decode_data_message(
    msg: Mapping[str, Any], origin: Origin, prefilter: Prefilter | None = None,
) -> Iterator[Outcome]:
    """Decode the inflated subscription payload: one Outcome per log event."""
    try:
        if not is_mapping(msg):
            raise DecodeError(f"CloudWatch Logs payload: expected an object, got "
                              f"{type_name(msg)}")
        kind = msg.get("messageType")
        if kind == "CONTROL_MESSAGE":
            yield Skip("control-message", origin)
            return
        if kind != "DATA_MESSAGE":
            raise DecodeError(f"unknown CloudWatch Logs messageType {describe(kind)}")
        group = opt_str(msg, "logGroup", "")
        stream = opt_str(msg, "logStream", "")
        events = msg.get("logEvents")
        if events is not None and type(events) is not list:
            raise DecodeError(f"logEvents: expected an array, got {type_name(events)}")
    except DecodeError as exc:
        yield Failure(exc.message, origin, cut(dump(msg)))
        return
    if not events:
        yield Skip("empty", origin)
        return
    cluster = cluster_from_log_group(group)
    prefix = f"{group}/{stream}/"
    skip = is_non_audit_stream(stream)
    for i, log_event in enumerate(events):
        event_id = log_event.get("id") if is_mapping(log_event) else None
        here = origin.child(prefix + (event_id if type(event_id) is str else f"#{i}"))
        if skip:
            yield Skip("not-k8s-audit", here)
        else:
            yield decode_log_event(log_event, here, cluster, prefilter)


@isolated
def decode_log_event(
    log_event: Any, origin: Origin, cluster: str | None, prefilter: Prefilter | None = None,
) -> Outcome:
    """One `{"id", "timestamp", "message"}`; the message is the Event's JSON text (or, in some
    collectors' exports, the Event object itself)."""
    if not is_mapping(log_event):
        return Failure(f"log event: expected an object, got {type_name(log_event)}", origin,
                       cut(dump(log_event)))
    message = log_event.get("message")
    try:
        obj = embedded_audit_event(message, "message", "audit Event JSON", prefilter)
        if obj is None:
            return Prefiltered(origin)
        event = event_from_k8s(obj, cloud="aws", cluster=cluster, raw=obj, origin=origin)
    except DecodeError as exc:
        return Failure(exc.message, origin, cut(message if type(message) is str
                                                else dump(log_event)))
    return Decoded(event, origin)


def _event_id(timestamp_ms: int, seq: int) -> str:
    stamp = str(timestamp_ms)
    return stamp + str(seq).zfill(56 - len(stamp))  # CloudWatch ids are 56 decimal digits


def _timestamp_ms(message: str, now_ms: int) -> int:
    try:
        when = opt_time(orjson.loads(message), ("requestReceivedTimestamp", "stageTimestamp"))
    except (orjson.JSONDecodeError, DecodeError, AttributeError):
        return now_ms
    return now_ms if when is None else int(when.timestamp() * 1000)


def build_data_message(
    log_group: str, log_stream: str, messages: Sequence[str], *, owner: str = "111122223333",
    subscription_filters: Sequence[str] = ("kubetrail-audit",),
    timestamps: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The DATA_MESSAGE CloudWatch Logs would build for these messages. Timestamps default to
    each Event's requestReceivedTimestamp (now when it has none)."""
    now_ms = int(time.time() * 1000)
    stamps = list(timestamps) if timestamps is not None else [
        _timestamp_ms(m, now_ms) for m in messages]
    if len(stamps) != len(messages):
        raise ValueError("one timestamp per message")
    return {
        "messageType": "DATA_MESSAGE", "owner": owner, "logGroup": log_group,
        "logStream": log_stream, "subscriptionFilters": list(subscription_filters),
        "logEvents": [{"id": _event_id(ts, i), "timestamp": ts, "message": m}
                      for i, (ts, m) in enumerate(zip(stamps, messages, strict=True))],
    }


def encode_awslogs(
    log_group: str, log_stream: str, messages: list[str], *, owner: str = "111122223333",
    subscription_filters: Sequence[str] = ("kubetrail-audit",),
    timestamps: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The exact Lambda event a CloudWatch Logs subscription sends for these messages:
    `{"awslogs": {"data": base64(gzip(DATA_MESSAGE JSON))}}` (gzip mtime 0: reproducible)."""
    body = build_data_message(log_group, log_stream, messages, owner=owner,
                              subscription_filters=subscription_filters, timestamps=timestamps)
    data = base64.b64encode(gzip.compress(orjson.dumps(body), mtime=0)).decode("ascii")
    return {"awslogs": {"data": data}}
