"""StorageQueueDeadLetterSink on Azurite: one readable JSON message per failed record, cut to fit
the 64 KiB queue limit, and errors translated."""

from __future__ import annotations

import uuid

import orjson
import pytest
from azure.storage.queue import QueueClient

from kubetrail.deadletter.storage_queue import (
    MAX_MESSAGE_BYTES,
    StorageQueueDeadLetterSink,
    queue_message,
)
from kubetrail.errors import ConfigError, Origin, PublishError
from kubetrail.sources.base import Failure
from tests.emulators.azurite import closed_port, connection_string

pytestmark = pytest.mark.azure
ORIGIN = Origin("eventhub:aks-audit/3", "offset=4096,seq=17/records[2]")


@pytest.fixture
def queue(azurite: str) -> QueueClient:
    client = QueueClient.from_connection_string(azurite, "dl-" + uuid.uuid4().hex[:12])
    client.create_queue()
    return client


def received(queue: QueueClient) -> list[dict[str, object]]:
    return [orjson.loads(m.content) for m in queue.receive_messages(messages_per_page=32)]


def test_each_failure_is_one_message_with_reason_origin_and_raw(
        azurite: str, queue: QueueClient) -> None:
    failures = [Failure("invalid Event Hub body JSON: 'unexpected character'", ORIGIN,
                        b'{"records": [broken'),
                Failure("category: expected a string, got null", ORIGIN.child("records[3]"),
                        b"\xff\xfe binary")]
    StorageQueueDeadLetterSink(queue.queue_name, connection_string=azurite).send(failures)
    peeked = queue.peek_messages(max_messages=32)
    assert len(peeked) == 2
    assert all(m.expires_on is None or m.expires_on.year >= 9999 for m in peeked)  # kept
    got = sorted(received(queue), key=lambda d: str(d["position"]))
    assert got[0] == {"reason": failures[0].reason, "source": "eventhub:aks-audit/3",
                      "position": "offset=4096,seq=17/records[2]", "raw": '{"records": [broken',
                      "raw_truncated": False, "raw_bytes": 19, "cloud": "azure"}
    assert got[1]["position"] == "offset=4096,seq=17/records[2]/records[3]"
    assert got[1]["raw_base64"] == "//4gYmluYXJ5"


def test_a_large_record_is_cut_to_fit_the_queue(azurite: str, queue: QueueClient) -> None:
    raw = ("é" * 600_000).encode()  # 1.2 MB, two bytes a character
    StorageQueueDeadLetterSink(queue.queue_name, connection_string=azurite).send(
        [Failure("too big", ORIGIN, raw)])
    [doc] = received(queue)
    assert doc["raw_truncated"] is True and doc["raw_bytes"] == len(raw)
    assert isinstance(doc["raw"], str) and set(doc["raw"]) == {"é"}  # cut between characters


def test_messages_of_control_characters_still_fit() -> None:
    text = queue_message(Failure("r", ORIGIN, b"\x00" * 200_000))
    assert len(text.encode()) <= MAX_MESSAGE_BYTES
    assert orjson.loads(text)["raw_truncated"] is True


def test_missing_queue_is_a_config_error(azurite: str) -> None:
    sink = StorageQueueDeadLetterSink("no-such-queue-" + uuid.uuid4().hex[:8],
                                      connection_string=azurite)
    with pytest.raises(ConfigError, match="does not exist"):
        sink.send([Failure("r", ORIGIN, b"x")])


def test_unreachable_queue_is_a_publish_error() -> None:
    client = QueueClient.from_connection_string(
        connection_string(closed_port(), closed_port()), "dl", retry_total=0)
    with pytest.raises(PublishError, match="unavailable"):
        StorageQueueDeadLetterSink("dl", client=client).send([Failure("r", ORIGIN, b"x")])


def test_nothing_to_send_sends_nothing(azurite: str, queue: QueueClient) -> None:
    StorageQueueDeadLetterSink(queue.queue_name, connection_string=azurite).send([])
    assert received(queue) == []
