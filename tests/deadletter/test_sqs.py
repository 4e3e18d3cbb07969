"""SqsDeadLetterSink against the moto server over HTTP: the document on the queue, batching,
records too large for SQS, refused entries and an unreachable queue."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from kubetrail.deadletter.sqs import KIND, MAX_MESSAGE_BYTES, SqsDeadLetterSink
from kubetrail.errors import ConfigError, Origin, PublishError
from kubetrail.sources.base import Failure
from tests.emulators.moto import Moto
from tests.emulators.net import LoopbackProxy

pytestmark = pytest.mark.aws
GROUP = "/aws/eks/prod/cluster"


def failure(i: int, raw: bytes = b'{"kind": "Event", "verb": ') -> Failure:
    return Failure(f"invalid JSON at line 1 ({i})",
                   Origin(GROUP, f"kube-apiserver-audit-abc/3697{i:04d}"), raw)


def documents(moto: Moto, queue: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
    return [(json.loads(m["Body"]),
             {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()})
            for m in moto.drain(queue)]


def test_each_failure_arrives_with_reason_origin_and_raw(aws_env: Moto) -> None:
    queue = aws_env.queue()
    SqsDeadLetterSink(queue).send([failure(1), failure(2, b"\x1f\x8b\x08\xff garbage")])
    got = sorted(documents(aws_env, queue), key=lambda d: d[0]["position"])
    assert got == [
        ({"reason": "invalid JSON at line 1 (1)", "source": GROUP,
          "position": "kube-apiserver-audit-abc/36970001", "raw_truncated": False,
          "raw": '{"kind": "Event", "verb": '}, {"kind": KIND, "source": GROUP}),
        ({"reason": "invalid JSON at line 1 (2)", "source": GROUP,
          "position": "kube-apiserver-audit-abc/36970002", "raw_truncated": False,
          "raw_base64": base64.b64encode(b"\x1f\x8b\x08\xff garbage").decode()},
         {"kind": KIND, "source": GROUP}),
    ]


def test_many_failures_are_batched_and_none_is_lost(aws_env: Moto) -> None:
    queue = aws_env.queue()
    SqsDeadLetterSink(queue).send([failure(i, b"x" * 60_000) for i in range(25)])
    positions = sorted(d["position"] for d, _ in documents(aws_env, queue))
    assert positions == sorted(f"kube-apiserver-audit-abc/3697{i:04d}" for i in range(25))


def test_record_that_escapes_past_the_limit_is_cut_and_flagged(aws_env: Moto) -> None:
    queue = aws_env.queue()
    raw = b"\x01\x02" * 150_000  # 300 KB of text that JSON-escapes to 6 bytes per byte
    SqsDeadLetterSink(queue).send([failure(7, raw)])
    (msg,) = aws_env.drain(queue)
    assert len(msg["Body"].encode()) <= MAX_MESSAGE_BYTES
    doc = json.loads(msg["Body"])
    assert doc["raw_truncated"] is True and doc["raw"].startswith("\x01\x02\x01\x02")
    assert doc["reason"] == "invalid JSON at line 1 (7)"


def test_a_refused_entry_raises_so_the_batch_is_retried(aws_env: Moto) -> None:
    """moto never refuses these entries, so its answer is edited on the way back."""
    queue, client = aws_env.queue(), aws_env.client("sqs")

    def refuse_entry_0(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Failed"] = [{"Id": "0", "Code": "KMS.ThrottlingException", "Message": "slow",
                             "SenderFault": False}]

    client.meta.events.register("after-call.sqs.SendMessageBatch", refuse_entry_0)
    with pytest.raises(PublishError, match=r"1 dead-letter message\(s\) refused.*36970000"):
        SqsDeadLetterSink(queue, client=client).send([failure(0), failure(1)])


def test_missing_queue_is_a_config_error(aws_env: Moto) -> None:
    with pytest.raises(ConfigError, match="no-such-queue"):
        SqsDeadLetterSink(f"{aws_env.endpoint}/123456789012/no-such-queue").send([failure(0)])
    with pytest.raises(ConfigError):
        SqsDeadLetterSink("no-such-queue")


def test_unreachable_queue_is_a_publish_error_and_recovers(
        aws_env: Moto, moto_proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    queue, proxy = aws_env.queue(), moto_proxy
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", proxy.endpoint)
    sink = SqsDeadLetterSink(queue)
    proxy.cut()
    with pytest.raises(PublishError, match="sqs send_message_batch"):
        sink.send([failure(0)])
    proxy.restore()
    sink.send([failure(0)])
    assert len(aws_env.drain(queue)) == 1
