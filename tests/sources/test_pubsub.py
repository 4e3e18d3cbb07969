"""GKE deliveries: Pub/Sub push/pull messages and Eventarc CloudEvents around real LogEntries."""

from __future__ import annotations

import base64
import gzip

import orjson

from kubetrail.sources.base import Failure, Prefiltered, Skip
from kubetrail.sources.gke import decode_log_entry
from kubetrail.sources.pubsub import decode_cloudevent, decode_pubsub_message
from tests.sources.helpers import (
    ORIGIN,
    RULES,
    cloudevent,
    corpus_doc,
    corpus_lines,
    failure,
    findings,
    kinds,
    only,
    only_event,
    pubsub_push,
)

KHI = "gke/khi_gke-audit-logentries.jsonl"


def test_real_push_envelope_of_grafana_loki() -> None:
    push = corpus_doc("gke/grafana-loki_pubsub-push-envelope.json")
    outcome = only(decode_pubsub_message(push, ORIGIN))
    # its LogEntry was trimmed by its authors to have no protoPayload
    assert outcome == Skip("not-k8s-audit", ORIGIN.child("5187581549398349"))


def test_push_message_decodes_like_the_entry_itself() -> None:
    entry = corpus_lines(KHI)[0]
    ev = only_event(decode_pubsub_message(pubsub_push(entry, "42"), ORIGIN))
    direct = decode_log_entry(entry, ORIGIN)
    assert ev == direct.event  # type: ignore[union-attr]
    assert ev.cluster == "sample-cluster" and ev.verb == "create"


def test_pull_and_bare_message_forms() -> None:
    entry = corpus_lines(KHI)[1]
    message = pubsub_push(entry)["message"]
    assert only_event(decode_pubsub_message(message, ORIGIN)).subresource == "status"
    bare = {"data": message["data"]}
    assert only_event(decode_pubsub_message(bare, ORIGIN)).subresource == "status"


def test_cloudevent_forms() -> None:
    entry = corpus_doc("gke/otel-contrib_gke-k8s-activity-logentry.json")
    push = pubsub_push(entry)
    for ce in (cloudevent(push), cloudevent(orjson.dumps(push)),
               cloudevent(orjson.dumps(push).decode()),
               cloudevent(entry, "google.cloud.audit.log.v1.written")):
        assert only_event(decode_cloudevent(ce, ORIGIN)).resource == "leases"
    binary = {k: v for k, v in cloudevent(None).items() if k != "data"}
    binary["data_base64"] = base64.b64encode(orjson.dumps(push)).decode()
    assert only_event(decode_cloudevent(binary, ORIGIN)).name == "gcp-controller-manager"


def test_cloudevent_without_a_message_or_entry_fails() -> None:
    assert failure(decode_cloudevent(cloudevent({"hello\n": 1}), ORIGIN)).reason == \
        "CloudEvent data holds neither a Pub/Sub message nor a LogEntry (keys 'hello\\n')"
    assert failure(decode_cloudevent(cloudevent("{"), ORIGIN)).reason.startswith(
        "invalid CloudEvent data JSON")
    assert failure(decode_cloudevent(cloudevent([1]), ORIGIN)).reason == \
        "CloudEvent data: expected an object, got array"


def test_negative_entry_is_skipped_through_every_envelope() -> None:
    negative = corpus_doc("negative/otel-contrib_gke-cluster-api-getcluster_NOT-k8s-audit.json")
    assert kinds(decode_pubsub_message(pubsub_push(negative), ORIGIN)) == ["Skip:not-k8s-audit"]
    assert kinds(decode_cloudevent(cloudevent(pubsub_push(negative)), ORIGIN)) == [
        "Skip:not-k8s-audit"]


def test_prefilter_sees_the_decoded_entry_bytes() -> None:
    entries = corpus_lines("gke/panther-analysis_gke-logentries.jsonl")
    plain, fast = [], []
    for i, entry in enumerate(entries):
        push = pubsub_push(entry, str(i))
        plain += decode_pubsub_message(push, ORIGIN)
        fast += decode_pubsub_message(push, ORIGIN, RULES.prefilter)
    assert sum(isinstance(o, Prefiltered) for o in fast) >= 40
    assert findings(fast) == findings(plain) != []


def test_gzip_data_is_inflated_within_bounds() -> None:
    entry = corpus_lines(KHI)[2]
    push = pubsub_push(gzip.compress(orjson.dumps(entry)))
    assert only_event(decode_pubsub_message(push, ORIGIN)).verb == "patch"
    bomb = pubsub_push(gzip.compress(b"[" + b" " * (2 << 20) + b"]"))
    assert failure(decode_pubsub_message(bomb, ORIGIN, max_inflate=1 << 20)).reason == \
        f"gzip payload inflates beyond {1 << 20} bytes"


def test_data_holding_an_array_of_entries() -> None:
    entries = corpus_lines(KHI)
    outcomes = list(decode_pubsub_message(pubsub_push(orjson.dumps(entries), "7"), ORIGIN))
    assert kinds(outcomes) == ["Decoded"] * 3
    assert outcomes[2].origin == ORIGIN.child("7").child("[2]")


def test_bad_messages() -> None:
    push = pubsub_push(corpus_lines(KHI)[0])
    push["message"]["data"] = "@@@"
    outcome = only(decode_pubsub_message(push, ORIGIN))
    assert isinstance(outcome, Failure)
    assert outcome.reason.startswith("message.data is not valid base64")
    assert orjson.loads(outcome.raw) == push
    truncated = pubsub_push(orjson.dumps(corpus_lines(KHI)[0])[:200])
    bad = failure(decode_pubsub_message(truncated, ORIGIN))
    assert bad.reason.startswith("invalid LogEntry JSON") and len(bad.raw) == 200
    assert kinds(decode_pubsub_message({"message": {"messageId": "1"}}, ORIGIN)) == ["Skip:empty"]
    assert failure(decode_pubsub_message({"message": "x"}, ORIGIN)).reason == \
        "message: expected an object, got string"
    assert failure(decode_pubsub_message([], ORIGIN)).reason == \
        "Pub/Sub message: expected an object, got array"  # type: ignore[arg-type]
