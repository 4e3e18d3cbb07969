"""PubSubDeadLetterSink on the Pub/Sub emulator: the dead-letter document and attributes, binary
and oversized raw records, and failures to send."""

from __future__ import annotations

import base64

import orjson
import pytest

from kubetrail.deadletter.base import MAX_RAW_BYTES
from kubetrail.deadletter.pubsub import PubSubDeadLetterSink
from kubetrail.errors import ConfigError, Origin, PublishError
from kubetrail.sources.base import Failure
from tests.emulators.gcloud import GcloudEmulators
from tests.emulators.net import LoopbackProxy

pytestmark = pytest.mark.gcp

SUB = "projects/p/subscriptions/eventarc-sub"


def test_each_failure_is_one_message_with_reason_and_message_id(
        pubsub_env: GcloudEmulators) -> None:
    topic, sub = pubsub_env.topic_with_subscription("deadletter")
    failures = [
        Failure("invalid JSON: unexpected character\r\nforged: 1", Origin(SUB, "msg-1"),
                b"{not json"),
        Failure("not a LogEntry", Origin(SUB, "msg-2"), b"\xff\xfe binary"),
        Failure("too big", Origin(SUB, "msg-3"), b"x" * (MAX_RAW_BYTES + 10)),
    ]
    PubSubDeadLetterSink(topic).send(failures)
    got = {m.attributes["position"]: m for m in pubsub_env.pull(sub)}
    assert sorted(got) == ["msg-1", "msg-2", "msg-3"]
    first = got["msg-1"]
    assert dict(first.attributes) == {
        "kind": "kubetrail-dead-letter", "reason": "invalid JSON: unexpected characterforged: 1",
        "source": SUB, "position": "msg-1"}
    assert orjson.loads(first.data) == {
        "reason": "invalid JSON: unexpected character\r\nforged: 1", "source": SUB,
        "position": "msg-1", "raw": "{not json", "raw_truncated": False}
    binary = orjson.loads(got["msg-2"].data)
    assert base64.b64decode(binary["raw_base64"]) == b"\xff\xfe binary"
    big = orjson.loads(got["msg-3"].data)
    assert big["raw_truncated"] is True and len(big["raw"]) == MAX_RAW_BYTES


def test_nothing_to_send_sends_nothing(pubsub_env: GcloudEmulators) -> None:
    topic, sub = pubsub_env.topic_with_subscription("deadletter")
    PubSubDeadLetterSink(topic).send([])
    assert pubsub_env.pull(sub) == []


def test_missing_topic_is_a_config_error(pubsub_env: GcloudEmulators) -> None:
    sink = PubSubDeadLetterSink("absent", project=pubsub_env.project, timeout=5)
    with pytest.raises(ConfigError):
        sink.send([Failure("bad", Origin(SUB, "m"), b"x")])


def test_unreachable_pubsub_raises_for_a_retry(
        pubsub_env: GcloudEmulators, monkeypatch: pytest.MonkeyPatch) -> None:
    topic, _ = pubsub_env.topic_with_subscription("deadletter")
    proxy = LoopbackProxy(pubsub_env.pubsub_host)
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", proxy.address)
    proxy.cut()
    try:
        with pytest.raises(PublishError, match="not sent"):
            PubSubDeadLetterSink(topic, timeout=2).send([Failure("bad", Origin(SUB, "m"), b"x")])
    finally:
        proxy.close()
