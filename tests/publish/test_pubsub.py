"""PubSubPublisher on the Pub/Sub emulator: data, attributes (cleaned and capped), a missing
topic, and an emulator that goes away and comes back."""

from __future__ import annotations

import orjson
import pytest

from kubetrail.errors import ConfigError
from kubetrail.findings import Finding
from kubetrail.publish.pubsub import PubSubPublisher, clean_attribute, topic_path
from tests.emulators.gcloud import GcloudEmulators
from tests.emulators.net import LoopbackProxy

pytestmark = pytest.mark.gcp


def finding(n: int, cluster: str = "gke-prod") -> Finding:
    doc = {"id": f"id-{n}", "rule_id": "Kubernetes.DaemonSet.Created", "title": f"t{n}",
           "severity": "HIGH", "cloud": "gcp", "cluster": cluster, "count": 1}
    return Finding(id=f"id-{n}", rule_id="Kubernetes.DaemonSet.Created", title=f"t{n}",
                   severity="HIGH", cloud="gcp", cluster=cluster, document=doc)


def test_each_finding_is_one_message_with_its_document_and_attributes(
        pubsub_env: GcloudEmulators) -> None:
    topic, sub = pubsub_env.topic_with_subscription("findings")
    results = PubSubPublisher(topic).publish([finding(1), finding(2)])
    assert [(r.finding_id, r.ok) for r in results] == [("id-1", True), ("id-2", True)]
    got = sorted(pubsub_env.pull(sub), key=lambda m: m.attributes["finding_id"])
    assert [orjson.loads(m.data) for m in got] == [dict(finding(1).document),
                                                   dict(finding(2).document)]
    assert dict(got[0].attributes) == {
        "rule_id": "Kubernetes.DaemonSet.Created", "severity": "HIGH", "cluster": "gke-prod",
        "cloud": "gcp", "finding_id": "id-1"}


def test_attacker_controlled_values_cannot_inject_or_overflow_attributes(
        pubsub_env: GcloudEmulators) -> None:
    topic, sub = pubsub_env.topic_with_subscription("findings")
    evil = "prod\r\nrule_id: forged\x00\x1b[31m" + "é" * 2000
    [result] = PubSubPublisher(topic).publish([finding(1, cluster=evil)])
    assert result.ok
    [msg] = pubsub_env.pull(sub)
    cluster = msg.attributes["cluster"]
    assert cluster.startswith("prodrule_id: forged[31m")
    assert all(c.isprintable() for c in cluster)
    assert len(cluster.encode()) <= 1024 and len(cluster.encode()) >= 1022
    assert msg.attributes["rule_id"] == "Kubernetes.DaemonSet.Created"
    assert orjson.loads(msg.data)["cluster"] == evil  # the document keeps the real value


def test_clean_attribute_never_splits_a_character() -> None:
    assert clean_attribute("a" + "€" * 400).encode() == ("a" + "€" * 341).encode()
    assert clean_attribute("line\nbreak\ttab") == "linebreaktab"


def test_topic_names_and_paths() -> None:
    assert topic_path("t", "p") == "projects/p/topics/t"
    assert topic_path("projects/p/topics/t", None) == "projects/p/topics/t"
    for bad, project in (("t", None), ("a/b", "p"), ("projects/p/subscriptions/s", None)):
        with pytest.raises(ConfigError):
            topic_path(bad, project)


def test_missing_topic_is_a_config_error(pubsub_env: GcloudEmulators) -> None:
    publisher = PubSubPublisher("no-such-topic", project=pubsub_env.project, timeout=5)
    with pytest.raises(ConfigError, match="NotFound"):
        publisher.publish([finding(1)])


def test_unreachable_pubsub_fails_each_finding_then_recovers(
        pubsub_env: GcloudEmulators, monkeypatch: pytest.MonkeyPatch) -> None:
    topic, sub = pubsub_env.topic_with_subscription("findings")
    proxy = LoopbackProxy(pubsub_env.pubsub_host)
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", proxy.address)
    try:
        publisher = PubSubPublisher(topic, timeout=2)
        assert all(r.ok for r in publisher.publish([finding(1)]))
        proxy.cut()
        failed = publisher.publish([finding(2), finding(3)])
        assert [r.ok for r in failed] == [False, False]
        assert all("publish to" in (r.error or "") for r in failed), [r.error for r in failed]
        proxy.restore()
        # gRPC reconnects after its own backoff (it grew while the port was closed): give this
        # publish the production budget (30 s) for its retries as well as its wait.
        publisher._topic.timeout = 30
        publisher._topic._retry = publisher._topic._retry.with_timeout(30)
        assert all(r.ok for r in publisher.publish([finding(4)]))
    finally:
        proxy.close()
    assert sorted(m.attributes["finding_id"] for m in pubsub_env.pull(sub)) == ["id-1", "id-4"]
