"""A Pub/Sub push line decoded without prefilter by the direct path (pubsub.push_line), with or
without the message data pubsub_batch already base64-decoded for it, gives exactly the outcome
of the full dispatch (detect._decode_line): the same AuditEvent, failure reason, origin and raw,
and the same findings."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import orjson
import pytest

from kubetrail.dedup.memory import MemoryDedupStore
from kubetrail.errors import Origin
from kubetrail.pipeline import Pipeline
from kubetrail.publish.stdout import StdoutPublisher
from kubetrail.sources import pubsub, read_paths
from kubetrail.sources.base import Decoded, Outcome, Prefiltered
from kubetrail.sources.detect import _decode_line, decode_line
from kubetrail.sources.pubsub_batch import CANDIDATE, push_verdicts
from tests.sources.helpers import pubsub_push
from tests.sources.test_pubsub_batch import BAD_LINES, PLAIN, PREFILTER, RULES, stream, with_data
from tests.sources.test_pubsub_fast import entry

ORIGIN = Origin("gke.jsonl", "7")


def push(value: Any = None, **message: Any) -> bytes:
    body = pubsub_push(entry() if value is None else value)
    body["message"] = {**body["message"], **message}
    return orjson.dumps(body) + b"\n"


def b64(value: Any) -> str:
    return base64.b64encode(orjson.dumps(value)).decode()


def full_way(text: bytes) -> list[Outcome]:
    return list(_decode_line(text, ORIGIN, None))


CRAFTED = {
    **BAD_LINES,
    "plain": PLAIN,
    "no message id": push(messageId=None),
    "no message id, failing entry": push({**entry(), "timestamp": "soon"}, messageId=None),
    "message_id spelling": orjson.dumps({"message": {"data": b64(entry()), "message_id": "m-9"}}),
    "empty messageId, message_id": push(messageId="", message_id="m-2"),
    "numeric messageId": push(messageId=1).replace(b'"messageId":1', b'"messageId":' + b"9" * 30),
    "messageId an object": push(messageId={"a": 1}),
    "hostile messageId": push(messageId="x/../\u202e\n"),
    "no subscription": orjson.dumps({"message": {"data": b64(entry()), "messageId": "1"}}),
    "only data": orjson.dumps({"message": {"data": b64(entry())}}),
    "duplicated message": PLAIN.replace(b'{"message":', b'{"message":{"messageId":"z"},'
                                        b'"message":', 1),
    "message not an object": b'{"message":"text","subscription":"s"}\n',
    "message without data": b'{"message":{"messageId":"3"}}\n',
    "message an audit event": b'{"message":{"kind":"Event","verb":"get"},"id":"1"}\n',
    "receivedMessages too": orjson.dumps({"message": {"data": b64(entry())},
                                          "receivedMessages": []}),
    "entry of another service": with_data(b64(entry(serviceName="compute.googleapis.com"))),
    "entry not an object": with_data(base64.b64encode(b'"text"').decode()),
    "entry with a failing time": with_data(b64({**entry(), "timestamp": "yesterday"})),
    "entry with a bad callerIp": with_data(b64({**entry(), "protoPayload": {
        **entry()["protoPayload"], "requestMetadata": {"callerIp": 7}}})),
    "entry a k8s pod create": with_data(b64(entry("create", "pods", namespace="kube-system",
                                                  user="mallory@example.com"))),
    "trailing spaces": PLAIN.rstrip(b"\n") + b"   \n",
    "dense": with_data(b64(entry())).rstrip(b"\n")[:-1] + b',"x":' + b"[]," * 9000 + b"1}\n",
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_a_push_line_gives_the_full_dispatchs_outcome(name: str) -> None:
    text = CRAFTED[name]
    assert list(decode_line(text, ORIGIN, None)) == full_way(text)


def test_the_usual_push_line_takes_the_direct_path() -> None:
    outcome = pubsub.push_line(PLAIN, ORIGIN)
    assert isinstance(outcome, Decoded) and outcome.origin == ORIGIN.child("4711")
    assert [outcome] == full_way(PLAIN)


def test_generated_push_lines_give_the_full_dispatchs_outcomes() -> None:
    for i, text in enumerate(stream(400, seed=5)):
        origin = Origin("s", str(i))
        assert list(decode_line(text, origin, None)) == list(_decode_line(text, origin, None))


def test_the_data_handed_over_is_each_candidates_own() -> None:
    lines = stream(600, seed=9)
    verdicts = push_verdicts(lines, PREFILTER)
    candidates = [text for text, v in zip(lines, verdicts, strict=True) if v == CANDIDATE]
    assert len(candidates) > 20
    for text in candidates:
        handed = pubsub._handed_data(text)
        assert handed == base64.b64decode(orjson.loads(text)["message"]["data"])
        assert pubsub.push_line(text, ORIGIN) == full_way(text)[0]
    # only those very line objects: an equal copy decodes its own data
    assert pubsub._handed_data(bytes(bytearray(candidates[0]))) is None


def test_data_is_handed_over_only_to_its_own_line() -> None:
    mine, other = with_data(b64(entry("get", "pods"))), with_data(b64(entry("get", "secrets")))
    equal = bytes(bytearray(mine))
    pubsub.hand_over({id(mine): (mine, base64.b64decode(orjson.loads(other)["message"]["data"]))})
    try:
        assert pubsub.push_line(equal, ORIGIN) == full_way(mine)[0]
        assert pubsub.push_line(mine, ORIGIN) != full_way(mine)[0]  # (it is what is used)
        # an identity reused by another line (the kept one was freed) is not that line's
        pubsub.hand_over({id(equal): (mine, b"{}")})
        assert pubsub.push_line(equal, ORIGIN) == full_way(mine)[0]
    finally:
        pubsub.hand_over({})


def _findings(path: Path, prefilter: bool) -> tuple[bytes, str]:
    out = io.BytesIO()
    report = Pipeline(RULES, MemoryDedupStore(), StdoutPublisher(out)).process(
        read_paths([path], RULES.prefilter if prefilter else None))
    return out.getvalue(), report.summary()


def test_a_stream_with_crafted_lines_scans_as_each_line_decoded_alone(tmp_path: Path) -> None:
    lines = stream(1200, seed=4)
    for k, text in enumerate(CRAFTED.values()):
        lines.insert(17 * k + 3, text if text.endswith(b"\n") else text + b"\n")
    path = tmp_path / "gke.jsonl"
    path.write_bytes(b"".join(lines))
    got = [o for o in read_paths([path], PREFILTER) if not isinstance(o, Prefiltered)]
    alone = {o.origin: o for i, text in enumerate(lines, 1)
             for o in _decode_line(text, Origin(str(path), str(i)), None)}
    assert got and all(alone[o.origin] == o for o in got)
    assert any(isinstance(o, Decoded) for o in got)
    with_prefilter, without = _findings(path, True), _findings(path, False)
    assert with_prefilter[0] == without[0] and with_prefilter[0].count(b"\n") > 5
