"""Recognize which delivery format a JSON document is, and decode it.

Recognized, in this order (first match wins):
  Panther-shaped log (`p_log_type`)                          → decode_panther (below)
  audit.k8s.io Event (`kind: Event`, apiVersion audit.k8s.io/* or none) → k8s.py, cloud aws
  Lambda CloudWatch Logs event (`awslogs`)                   → cloudwatch.decode_awslogs
  CloudWatch Logs payload (`messageType`)                    → cloudwatch.decode_data_message
  Event Hub body (`records`)                                 → eventhub.decode_eventhub_body
  AKS diagnostic record (`category` + `properties`)          → eventhub.decode_aks_record
  Eventarc CloudEvent (`specversion`)                        → pubsub.decode_cloudevent
  Cloud Logging LogEntry (`protoPayload`, or `logName` + `resource`) → gke.decode_log_entry
  Pub/Sub push body (`message` object with data/messageId), pull response
  (`receivedMessages`) or bare message (`data` string + messageId/attributes/publishTime)
                                                             → pubsub.decode_pubsub_message
  single CloudWatch log event (`message` as Event JSON text or object, with `timestamp`/`id`),
  e.g. an export or a collector's envelope                   → cloudwatch.decode_log_event
  a JSON array of any of these (one level)                   → each element, origin `[<i>]`
Anything else is a Failure "unrecognized document: keys …" (keys escaped and cut).

A bare audit Event carries no cloud: it is read as EKS (the form CloudWatch stores), cluster None.

Panther-shaped logs (rule Tests): the native record plus Panther's `p_*` fields. `p_log_type`
says what the record is — `Amazon.EKS.Audit`: an audit Event; `Azure.MonitorActivity`: an AKS
diagnostic record; `GCP.AuditLog`: a LogEntry — and it is normalized by the same code as live
records. `p_source_label` names the cluster when the record has no native cluster field (EKS
Events never do; AKS records without resourceId; LogEntries without a cluster_name label). As
p_log_type already declares a GCP audit log, such a LogEntry may omit protoPayload.serviceName;
one naming another service is still skipped. The `p_*` fields stay in `raw`.

Fast path for raw text (decode_line, used per JSON line by files.py, and decode_document(bytes)):
with a prefilter, one JSON object is Prefiltered without a full decode when it is either
- the API server's own output — text starting with AUDIT_PREFIX
  (`{"kind":"Event","apiVersion":"audit.k8s.io/`, how kube-apiserver writes every Event, hence
  every EKS CloudWatch line) — that `prefilter.may_match_event` (a typed light decode) rejects.
  Such text is decoded as an audit Event (or as the Panther log its p_log_type names) whatever
  else it holds: dispatch follows the text here;
- or any other object whose text holds none of ENVELOPE_MARKERS, no escape that could spell a
  letter, digit, "_" or backslash (so no key is spelled otherwise than the markers test sees,
  e.g. "data_\\u0062ase64", at any level of JSON embedded in strings), and that
  `prefilter.may_match` (bytes) rejects.
Exact (for the bytes test; the light decode is a real parser): outside envelopes, every
value a rule can require is copied from a JSON string of the record's own text (the
prefilter's argument; an escape that could spell one of its letters always decodes), so text
the prefilter rejects decodes to no match. The markers are the keys under which content hides
from the text (`"data"`, `"data_base64"`: base64 in awslogs, Pub/Sub and CloudEvents) or
under which one document holds many records (`"records"`, `"logEvents"`), which are decoded so
that every record keeps its own Outcome. JSON arrays are never fast-pathed.
A record's fate is kept for the damage that happens to real logs — truncation, mangled bytes
and broken encoding: text that is not one well-formed JSON object in UTF-8
(common.is_json_object, or the light decode) is always parsed, and fails as it should. What the
fast path does change: a well-formed record that no rule can match counts as prefiltered even
when, decoded, it would have been skipped (a non-audit category, a LogEntry of another service)
or failed (not a format kubetrail reads, a wrong type in a field no rule reads, nesting beyond
orjson's limit).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from kubetrail import record as records
from kubetrail.errors import ConfigError, DecodeError, Origin
from kubetrail.sources.base import Decoded, Failure, Outcome, Prefiltered, Skip
from kubetrail.sources.cloudwatch import decode_awslogs, decode_data_message, decode_log_event
from kubetrail.sources.common import (
    BOM,
    DEFAULT_MAX_INFLATE,
    check_max_inflate,
    cut,
    describe,
    describe_keys,
    is_json_object,
    is_mapping,
    is_utf8,
    loads,
    type_name,
)
from kubetrail.sources.eventhub import decode_aks_record, decode_eventhub_body
from kubetrail.sources.eventhub_fast import BODY_PREFIX, prefiltered_body
from kubetrail.sources.gke import decode_log_entry
from kubetrail.sources.guard import failure_of, isolated, isolated_stream, mark_isolated
from kubetrail.sources.k8s import event_from_k8s, require_audit_event
from kubetrail.sources.pubsub import decode_cloudevent, decode_pubsub_message, push_line
from kubetrail.sources.pubsub_fast import PUSH_PREFIX, prefiltered_push
from kubetrail.sources.rawdump import dump

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

ENVELOPE_MARKERS = (b'"data"', b'"data_base64"', b'"records"', b'"logEvents"')
# An escape that could spell a letter, digit, "_" or backslash, e.g. of an envelope key
# ("lo\u0067Events"): text holding one never takes the byte-level fast path.
_LETTER_ESCAPE = re.compile(rb"\\u00(?:3[0-9]|[4-7][0-9a-fA-F])")
AUDIT_PREFIX = b'{"kind":"Event","apiVersion":"audit.k8s.io/'

_PUBSUB_KEYS = ("messageId", "message_id", "attributes", "publishTime", "publish_time")


def fast_prefiltered(text: bytes, prefilter: Prefilter) -> bool:
    """True when `text` (one JSON document) provably yields no match without a full decode:
    the API server's own output by the prefilter's light decode, any other object without
    envelope markers by its bytes."""
    if text.startswith(AUDIT_PREFIX):
        return is_utf8(text) and not prefilter.may_match_event(text)
    if text[:1] != b"{" or any(m in text for m in ENVELOPE_MARKERS) \
            or _LETTER_ESCAPE.search(text) is not None:
        return False
    return is_json_object(text) and not prefilter.may_match(text)


@isolated_stream
def decode_document(
    doc: Any, origin: Origin, prefilter: Prefilter | None = None,
    *, max_inflate: int = DEFAULT_MAX_INFLATE,
) -> Iterator[Outcome]:
    """Decode one JSON document (parsed, or raw bytes/str) in whichever format it is."""
    check_max_inflate(max_inflate)
    if isinstance(doc, bytes | bytearray | memoryview | str):
        data = doc.encode("utf-8", "surrogatepass") if isinstance(doc, str) else bytes(doc)
        empty = True
        for outcome in _decode_line(data, origin, prefilter, max_inflate=max_inflate):
            empty = False
            yield outcome
        if empty:
            yield Skip("empty", origin)
    elif type(doc) is list:
        if not doc:
            yield Skip("empty", origin)
        for i, item in enumerate(doc):
            here = origin.child(f"[{i}]")
            if type(item) is list:
                yield Failure("nested JSON array (only one level of array is read)", here,
                              cut(dump(item)))
            else:
                yield from _decode_one(item, here, prefilter, max_inflate)
    else:
        yield from _decode_one(doc, origin, prefilter, max_inflate)


@mark_isolated  # every path is: below, or _decode_line's guard
def decode_line(
    data: bytes, origin: Origin, prefilter: Prefilter | None = None,
    *, max_inflate: int = DEFAULT_MAX_INFLATE,
) -> Iterator[Outcome]:
    """Decode one JSON text (e.g. a line of a JSON-lines file); nothing when it is blank. The
    fast path above applies; a failure of the document itself keeps these bytes as its raw.
    Outcomes are streamed: a line holding an array of many documents is never a list of them.
    A line of the API server's own output or a push body of one LogEntry (pubsub.push_line),
    without prefilter, becomes its one outcome directly, as `_decode_line` makes it."""
    if prefilter is None and type(data) is bytes and type(max_inflate) is int \
            and max_inflate >= 1 and ((audit := data.startswith(AUDIT_PREFIX))
                                      or data.startswith(PUSH_PREFIX)):
        try:  # (push_line: a GKE candidate from pubsub_batch, or --no-prefilter)
            outcome = _audit_line(data, origin) if audit else push_line(data, origin)
        except ConfigError:
            raise
        except Exception as exc:  # what guard_stream makes of it
            outcome = failure_of(exc, origin, data)
        if outcome is not None:
            return iter((outcome,))
    return _decode_line(data, origin, prefilter, max_inflate=max_inflate)


def _audit_line(data: bytes, origin: Origin) -> Outcome | None:
    """The outcome of a line starting with AUDIT_PREFIX (no prefilter), exactly as
    `_decode_line` makes it; None when it is not one dict without p_log_type (then that path)."""
    try:
        doc = loads(data)
    except DecodeError as exc:
        return Failure(exc.message, origin, cut(data.rstrip()))
    if type(doc) is not dict or "p_log_type" in doc:
        return None
    outcome = _raw_event(doc, origin)
    if type(outcome) is Failure and outcome.origin == origin:
        outcome = records.replace(outcome, raw=cut(data.rstrip()))
    return outcome


@isolated_stream
def _decode_line(
    data: bytes, origin: Origin, prefilter: Prefilter | None = None,
    *, max_inflate: int = DEFAULT_MAX_INFLATE,
) -> Iterator[Outcome]:
    check_max_inflate(max_inflate)
    if data[:1] != b"{":
        data = data.strip().removeprefix(BOM).lstrip()
        if not data:
            return
    if prefilter is not None:
        if data.startswith(BODY_PREFIX):  # an Event Hub body: its records in one batch
            fast = prefiltered_body(data, origin, prefilter)
            if fast is not None:
                yield from fast
                return
        elif data.startswith(PUSH_PREFIX):  # a Pub/Sub push body: its LogEntry, light
            fast = prefiltered_push(data, origin, prefilter)
            if fast:
                yield from fast
                return
            if fast is not None:  # read, and some rule may match: the byte test would agree
                prefilter = None
        elif fast_prefiltered(data, prefilter):
            yield Prefiltered(origin)
            return
    try:
        doc = loads(data)
    except DecodeError as exc:
        yield Failure(exc.message, origin, cut(data.rstrip()))
        return
    if data.startswith(AUDIT_PREFIX) and type(doc) is dict and "p_log_type" not in doc:
        outcomes: Iterator[Outcome] = iter([_raw_event(doc, origin)])  # decided by the text,
    else:  # as the fast path is
        outcomes = decode_document(doc, origin, prefilter, max_inflate=max_inflate)
    del doc  # the caller's outcomes keep what they need; the parsed document can go
    for outcome in outcomes:
        if type(outcome) is Failure and outcome.origin == origin:
            outcome = records.replace(outcome, raw=cut(data.rstrip()))
        yield outcome


@isolated_stream
def _decode_one(doc: Any, origin: Origin, prefilter: Prefilter | None, max_inflate: int
                ) -> Iterator[Outcome]:
    if not is_mapping(doc):
        yield Failure(f"unrecognized document: a JSON {type_name(doc)}, not an object", origin,
                      cut(dump(doc)))
    elif "p_log_type" in doc:
        yield decode_panther(doc, origin)
    elif doc.get("kind") == "Event":
        yield _raw_event(doc, origin)
    elif "awslogs" in doc:
        yield from decode_awslogs(doc, origin, prefilter, max_inflate=max_inflate)
    elif "messageType" in doc:
        yield from decode_data_message(doc, origin, prefilter)
    elif "records" in doc:
        yield from decode_eventhub_body(doc, origin, prefilter)
    elif "category" in doc and "properties" in doc:
        yield decode_aks_record(doc, origin, prefilter)
    elif "specversion" in doc:
        yield from decode_cloudevent(doc, origin, prefilter, max_inflate=max_inflate)
    elif "protoPayload" in doc or ("logName" in doc and "resource" in doc):
        yield decode_log_entry(doc, origin)
    elif _is_pubsub(doc):
        yield from decode_pubsub_message(doc, origin, prefilter, max_inflate=max_inflate)
    elif type(doc.get("receivedMessages")) is list:
        for i, received in enumerate(doc["receivedMessages"]):
            yield from decode_pubsub_message(received, origin.child(f"receivedMessages[{i}]"),
                                             prefilter, max_inflate=max_inflate)
    elif _is_log_event(doc):
        yield decode_log_event(doc, origin, None, prefilter)
    else:
        yield Failure(f"unrecognized document: keys {describe_keys(doc) or '(none)'}", origin,
                      cut(dump(doc)))


@isolated
def decode_panther(log: Mapping[str, Any], origin: Origin) -> Outcome:
    """Decode one Panther-shaped log by its p_log_type (exactly one Outcome)."""
    log_type = log.get("p_log_type")
    label = log.get("p_source_label")
    cluster = label if type(label) is str and label else None
    if log_type == "Amazon.EKS.Audit":
        try:
            event = event_from_k8s(log, cloud="aws", cluster=cluster, raw=log, origin=origin)
        except DecodeError as exc:
            return Failure(exc.message, origin, cut(dump(log)))
        return Decoded(event, origin)
    if log_type == "Azure.MonitorActivity":
        return decode_aks_record(log, origin, default_cluster=cluster)
    if log_type == "GCP.AuditLog":
        return decode_log_entry(log, origin, default_cluster=cluster, assume_k8s=True)
    shown = describe(log_type) if type(log_type) is str else type_name(log_type)
    return Failure(f"unsupported p_log_type {shown} (expected Amazon.EKS.Audit, "
                   "Azure.MonitorActivity or GCP.AuditLog)", origin, cut(dump(log)))


@isolated
def _raw_event(doc: Mapping[str, Any], origin: Origin) -> Outcome:
    try:
        event = event_from_k8s(require_audit_event(doc), cloud="aws", cluster=None, raw=doc,
                               origin=origin)
    except DecodeError as exc:
        return Failure(exc.message, origin, cut(dump(doc)))
    return Decoded(event, origin)


def _is_pubsub(doc: Mapping[str, Any]) -> bool:
    message = doc.get("message")
    if is_mapping(message):
        return "data" in message or "messageId" in message or "message_id" in message
    return type(doc.get("data")) is str and any(k in doc for k in _PUBSUB_KEYS)


def _is_log_event(doc: Mapping[str, Any]) -> bool:
    message = doc.get("message")
    if is_mapping(message):
        return message.get("kind") == "Event"
    return type(message) is str and ("timestamp" in doc or "id" in doc or "eventId" in doc)
