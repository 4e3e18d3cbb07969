"""SnsPublisher against the moto server over HTTP: what subscribers receive (body, subject,
attributes, filter policies), PublishBatch with per-entry results, limits, and errors."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from kubetrail.dedup.sqlite import SqliteDedupStore
from kubetrail.errors import ConfigError, PublishError
from kubetrail.findings import Finding, build_finding
from kubetrail.publish.sns import MAX_MESSAGE_BYTES, SnsPublisher
from kubetrail.rules import RuleSet, load_rules
from tests.emulators.moto import Moto
from tests.emulators.net import LoopbackProxy
from tests.factories import SEED_RULE, T0, ds_manifest, make_event

pytestmark = pytest.mark.aws
RULES = RuleSet(load_rules([SEED_RULE]))


def finding(**overrides: Any) -> Finding:
    (match,), _ = RULES.evaluate(make_event(**overrides))
    claim = SqliteDedupStore().claim(match.dedup_key, T0, timedelta(minutes=60))
    return build_finding(match, claim, T0)


def count_calls(client: Any, operation: str) -> list[int]:
    """Observe (not alter) how many requests of `operation` the client sends."""
    calls: list[int] = []
    client.meta.events.register(f"before-call.sns.{operation}", lambda **_: calls.append(1))
    return calls


def test_one_finding_reaches_a_subscriber_as_documented(aws_env: Moto) -> None:
    topic, queue = aws_env.topic_with_queue()
    f = finding(request_object=ds_manifest(hostNetwork=True))
    assert [r.ok for r in SnsPublisher(topic).publish([f])] == [True]
    (msg,) = aws_env.drain(queue)
    envelope = json.loads(msg["Body"])
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    assert json.loads(envelope["Message"]) == json.loads(f.to_json())
    assert envelope["Subject"] == f"[MEDIUM] {f.title}"
    assert {k: v["Value"] for k, v in envelope["MessageAttributes"].items()} == {
        "rule_id": "Kubernetes.DaemonSet.Created", "severity": "MEDIUM", "cluster": "prod",
        "cloud": "aws"}


def test_several_findings_go_in_batches_of_ten_each_delivered_once(aws_env: Moto) -> None:
    topic, queue = aws_env.topic_with_queue(raw=True)
    client = aws_env.client("sns")
    batches, singles = count_calls(client, "PublishBatch"), count_calls(client, "Publish")
    findings = [finding(username=f"user-{i}@example.com") for i in range(23)]
    results = SnsPublisher(topic, client=client).publish(findings)
    assert [r.finding_id for r in results] == [f.id for f in findings]
    assert all(r.ok for r in results)
    assert (len(batches), len(singles)) == (3, 0)
    got = sorted(json.loads(m["Body"])["id"] for m in aws_env.drain(queue))
    assert got == sorted(f.id for f in findings)


def test_filter_policy_on_attributes_selects_findings(aws_env: Moto) -> None:
    topic, _ = aws_env.topic_with_queue()
    sqs, sns = aws_env.client("sqs"), aws_env.client("sns")
    high = aws_env.queue("high-only")
    arn = sqs.get_queue_attributes(QueueUrl=high, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"],
                  Attributes={"FilterPolicy": json.dumps({"severity": ["MEDIUM"],
                                                          "cluster": ["prod"]})})
    medium = finding(request_object=ds_manifest(hostNetwork=True))  # MEDIUM risk
    info = finding(username="bob@example.com")  # INFO
    SnsPublisher(topic).publish([medium, info])
    assert [json.loads(json.loads(m["Body"])["Message"])["id"] for m in aws_env.drain(high)] \
        == [medium.id]


def test_hostile_names_cannot_inject_into_subject_or_attributes(aws_env: Moto) -> None:
    topic, queue = aws_env.topic_with_queue()
    f = finding(cluster="prod\r\nX-Injected: 1\x00" + "c" * 500,
                username="ëve\u202e\r\nSubject: owned\x07" + "x" * 300)
    SnsPublisher(topic).publish([f])
    envelope = json.loads(aws_env.drain(queue)[0]["Body"])
    subject, attrs = envelope["Subject"], envelope["MessageAttributes"]
    assert len(subject) < 100 and subject.isascii() and subject.isprintable()
    assert "\n" not in subject and "\r" not in subject
    cluster = attrs["cluster"]["Value"]
    assert cluster.startswith("prod X-Injected: 1") and len(cluster) <= 256
    assert cluster.isprintable()
    # The body keeps the exact value: JSON escapes it, it cannot break out of its string.
    assert json.loads(envelope["Message"])["cluster"] == f.document["cluster"]


def test_huge_finding_is_cut_with_a_marker_and_delivered(aws_env: Moto) -> None:
    topic, queue = aws_env.topic_with_queue(raw=True)
    big = "A" * (2 * 1024 * 1024)
    f = finding(user_agent=big, request_object=ds_manifest(
        containers=[{"name": f"c{i}", "image": big[: 100_000 + i]} for i in range(20)]))
    assert SnsPublisher(topic).publish([f])[0].ok
    (msg,) = aws_env.drain(queue)
    assert len(msg["Body"].encode()) < MAX_MESSAGE_BYTES
    doc = json.loads(msg["Body"])
    assert "[kubetrail: truncated" in doc["context"]["userAgent"] and doc["id"] == f.id


def test_each_failed_batch_entry_is_reported_on_its_finding(aws_env: Moto) -> None:
    """moto never fails a valid entry, so the service's answer is edited on its way back
    (e.g. KMS throttling one entry): the publisher must map each failure to its finding."""
    topic, _ = aws_env.topic_with_queue()
    client = aws_env.client("sns")

    def fail_entry_1(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Successful"] = [s for s in parsed["Successful"] if s["Id"] != "1"]
        parsed["Failed"] = [{"Id": "1", "Code": "KMSThrottling", "Message": "slow down",
                             "SenderFault": False}]

    client.meta.events.register("after-call.sns.PublishBatch", fail_entry_1)
    findings = [finding(username=f"u{i}") for i in range(3)]
    results = SnsPublisher(topic, client=client).publish(findings)
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error == "KMSThrottling: slow down"


def test_missing_topic_is_a_config_error(aws_env: Moto) -> None:
    publisher = SnsPublisher("arn:aws:sns:us-east-1:123456789012:no-such-topic")
    with pytest.raises(ConfigError, match="no-such-topic"):
        publisher.publish([finding()])
    with pytest.raises(ConfigError):
        SnsPublisher("not-an-arn")


def test_unreachable_sns_is_a_publish_error_and_recovers(
        aws_env: Moto, moto_proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    topic, queue = aws_env.topic_with_queue(raw=True)
    proxy = moto_proxy
    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", proxy.endpoint)
    publisher, findings = SnsPublisher(topic), [finding(username="a"), finding(username="b")]
    proxy.cut()
    with pytest.raises(PublishError, match="sns publish_batch"):
        publisher.publish(findings)
    proxy.restore()
    assert all(r.ok for r in publisher.publish(findings))
    assert len(aws_env.drain(queue)) == 2
