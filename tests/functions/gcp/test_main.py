"""functions/gcp/main.py, the real handler, on the Pub/Sub and Firestore emulators: invoked with
real Eventarc CloudEvents (directly, and over HTTP through functions-framework)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import orjson
import pytest
from cloudevents.conversion import to_structured

from kubetrail.errors import ConfigError, PublishError
from tests.emulators.net import LoopbackProxy
from tests.functions.gcp.conftest import Deployment
from tests.functions.gcp.helpers import FUNCTION_DIR, cloud_event, daemonset_entry, load_main

pytestmark = pytest.mark.gcp


def test_a_daemonset_create_is_published_once_and_redelivery_publishes_nothing(
        deployment: Deployment, main: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    event = cloud_event(daemonset_entry(), message_id="1001")
    main.handle(event)
    [msg] = deployment.findings()
    doc = orjson.loads(msg.data)
    assert doc["rule_id"] == "Kubernetes.DaemonSet.Created" and doc["cloud"] == "gcp"
    assert doc["context"]["username"] == "alice@example.com"
    assert doc["context"]["namespace"] == "default" and doc["cluster"] == "gke-prod"
    assert doc["first_seen"] == "2026-11-27T12:00:00.123456Z" and doc["count"] == 1
    assert dict(msg.attributes) == {"rule_id": "Kubernetes.DaemonSet.Created",
                                    "severity": doc["severity"], "cluster": "gke-prod",
                                    "cloud": "gcp", "finding_id": doc["id"]}
    main.handle(event)  # Pub/Sub redelivers the same message
    main.handle(cloud_event(daemonset_entry(when="2026-11-27T12:30:00Z")))  # same window
    assert deployment.findings() == []
    log = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [entry["kubetrail"]["findings"] for entry in log] == [1, 0, 0]
    assert [entry["kubetrail"]["deduplicated"] for entry in log] == [0, 1, 1]
    assert log[0]["severity"] == "INFO" and "findings=1" in log[0]["message"]


def test_poison_message_is_dead_lettered_with_reason_and_message_id(
        deployment: Deployment, main: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # Cut short in transit: it still holds the prefilter's needles, so it is parsed and fails.
    truncated = orjson.dumps(daemonset_entry())[:-2]
    main.handle(cloud_event(truncated, message_id="666"))
    [dead] = deployment.dead_letters()
    doc = orjson.loads(dead.data)
    assert doc["position"] == "666" and dead.attributes["position"] == "666"
    assert doc["source"].endswith("/topics/kubetrail-gke-audit")
    assert "invalid LogEntry JSON" in doc["reason"]
    assert doc["raw"] == truncated.decode()
    assert deployment.findings() == []
    [log] = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert log["severity"] == "WARNING" and log["kubetrail"]["failed"] == 1


def test_other_services_and_failed_requests_publish_nothing(
        deployment: Deployment, main: ModuleType) -> None:
    gke_api = daemonset_entry()
    gke_api["protoPayload"]["serviceName"] = "container.googleapis.com"
    denied = daemonset_entry(user="mallory@example.com", status={"code": 7})
    for entry in (gke_api, denied):
        main.handle(cloud_event(entry))
    assert deployment.findings() == [] and deployment.dead_letters() == []


def test_missing_settings_are_a_config_error(
        deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBETRAIL_FINDINGS_TOPIC")
    with pytest.raises(ConfigError, match="KUBETRAIL_FINDINGS_TOPIC"):
        load_main().handle(cloud_event(daemonset_entry()))


def test_missing_findings_topic_raises_and_releases_the_claim(
        deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBETRAIL_FINDINGS_TOPIC", "not-created-yet")
    event = cloud_event(daemonset_entry())
    with pytest.raises(ConfigError, match="NotFound"):
        load_main().handle(event)
    monkeypatch.setenv("KUBETRAIL_FINDINGS_TOPIC", deployment.env["KUBETRAIL_FINDINGS_TOPIC"])
    load_main().handle(event)  # fixed deployment, same message: the finding is not lost
    assert len(deployment.findings()) == 1


def redeliver(handle: Callable[[Any], None], event: Any, attempts: int = 20) -> int:
    """What Pub/Sub does with retry on: deliver until the function returns normally."""
    for attempt in range(1, attempts + 1):
        try:
            handle(event)
            return attempt
        except PublishError:
            time.sleep(0.5)
    raise AssertionError("never succeeded")


@pytest.mark.parametrize("service", ["pubsub", "firestore"])
def test_service_outage_raises_and_redelivery_publishes_each_finding_exactly_once(
        deployment: Deployment, monkeypatch: pytest.MonkeyPatch, service: str) -> None:
    target = getattr(deployment.emulators, f"{service}_host")
    proxy = LoopbackProxy(target)
    monkeypatch.setenv(f"{service.upper()}_EMULATOR_HOST", proxy.address)
    try:
        main = load_main()
        main.handle(cloud_event(daemonset_entry(user="alice@example.com")))
        proxy.cut()  # the service goes away mid-run; the instance keeps its cached clients
        bob, carol = (cloud_event(daemonset_entry(user=u)) for u in ("bob@x.io", "carol@x.io"))
        with pytest.raises(PublishError):
            main.handle(bob)
        proxy.restore()
        redeliver(main.handle, bob)
        main.handle(bob)  # a duplicate delivery after success changes nothing
        redeliver(main.handle, carol)
    finally:
        proxy.close()
    users = sorted(orjson.loads(m.data)["context"]["username"] for m in deployment.findings())
    assert users == ["alice@example.com", "bob@x.io", "carol@x.io"]


def test_over_http_through_functions_framework(deployment: Deployment) -> None:
    import functions_framework

    app = functions_framework.create_app("handle", str(FUNCTION_DIR / "main.py"), "cloudevent")
    client = app.test_client()
    for data in (daemonset_entry(user="dave@example.com"), orjson.dumps(daemonset_entry())[:-1]):
        headers, body = to_structured(cloud_event(data))
        assert client.post("/", headers=headers, data=body).status_code == 200
    assert len(deployment.findings()) == 1 and len(deployment.dead_letters()) == 1


def test_http_status_500_makes_eventarc_retry(
        deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    import functions_framework

    monkeypatch.setenv("KUBETRAIL_DEDUP_COLLECTION", "bad/collection")
    app = functions_framework.create_app("handle", str(FUNCTION_DIR / "main.py"), "cloudevent")
    headers, body = to_structured(cloud_event(daemonset_entry()))
    assert app.test_client().post("/", headers=headers, data=body).status_code == 500



def test_eight_instances_racing_on_one_key_publish_exactly_one_finding(
        deployment: Deployment) -> None:
    """Eight function instances (own clients each) get matches of one dedup key at once."""
    instances = [load_main() for _ in range(8)]
    for instance in instances:
        instance.components()  # cold start outside the race
    events = [cloud_event(daemonset_entry(user="racer@example.com",
                                          when=f"2026-11-27T12:00:0{i}Z")) for i in range(8)]
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def deliver(instance: ModuleType, event: Any) -> None:
        try:
            barrier.wait()
            instance.handle(event)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=pair)
               for pair in zip(instances, events, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    [finding] = deployment.findings()
    assert orjson.loads(finding.data)["context"]["username"] == "racer@example.com"
