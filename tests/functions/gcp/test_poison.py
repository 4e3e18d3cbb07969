"""The GCP function on the Pub/Sub and Firestore emulators with the poison set of issue 9, each
LogEntry in its own Eventarc CloudEvent as the Log Router sink publishes them: every invocation
returns (no redelivery), the poison entries are dead-lettered with their reasons and the good
finding is published."""

from __future__ import annotations

import gzip
from types import ModuleType

import orjson
import pytest

from kubetrail.errors import ConfigError
from tests.functions.gcp.conftest import Deployment
from tests.functions.gcp.helpers import cloud_event, load_main
from tests.functions.poison import POISON, REASON, USERS, gke_entries

pytestmark = pytest.mark.gcp
ORDER = (*POISON, "bad_host", "good")


def test_poison_entries_are_dead_lettered_and_the_good_finding_is_published(
        deployment: Deployment, main: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    entries = gke_entries()
    ids = {key: str(7000 + i) for i, key in enumerate(ORDER)}
    for key in ORDER:  # each returns: Pub/Sub acknowledges the message, nothing is redelivered
        main.handle(cloud_event(entries[key].encode(), message_id=ids[key]))
    findings = [orjson.loads(m.data) for m in deployment.findings()]
    by_user = {f["context"]["username"]: f for f in findings if f.get("kind") != "rule_error"}
    assert set(by_user) == {USERS["good"], USERS["bad_host"]}
    assert {f["rule_id"] for f in by_user.values()} == {"Kubernetes.DaemonSet.Created"}
    letters = {m.attributes["position"]: orjson.loads(m.data) for m in deployment.dead_letters()}
    assert set(letters) == {ids[key] for key in POISON}
    for key in POISON:
        letter = letters[ids[key]]
        assert REASON[key] in letter["reason"], letter["reason"]
        assert letter["source"].endswith("/topics/kubetrail-gke-audit"), key
        assert letter["position"] == ids[key]
    logs = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [log["kubetrail"]["failed"] for log in logs] == [
        int(key in POISON) for key in ORDER]


def test_a_gzip_message_is_inflated_within_the_configured_limit(
        deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBETRAIL_MAX_INFLATE", str(1024 * 1024))
    padded = gke_entries()["good"].encode() + b" " * (2 * 1024 * 1024)  # valid JSON, 2 MiB
    bomb = gzip.compress(padded, mtime=0)
    assert len(bomb) < 8 * 1024
    load_main().handle(cloud_event(bomb, message_id="8001"))  # returns: no redelivery
    [letter] = deployment.dead_letters()
    assert orjson.loads(letter.data)["reason"] == "gzip payload inflates beyond 1048576 bytes"
    assert deployment.findings() == []

    monkeypatch.delenv("KUBETRAIL_MAX_INFLATE")  # the default (64 MiB) lets it through
    load_main().handle(cloud_event(bomb, message_id="8002"))
    assert [orjson.loads(m.data)["context"]["username"] for m in deployment.findings()] == [
        USERS["good"]]


@pytest.mark.parametrize("value", ["0", "-1", "1e6", "²"])
def test_a_bad_max_inflate_setting_is_named(
        deployment: Deployment, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("KUBETRAIL_MAX_INFLATE", value)
    with pytest.raises(ConfigError, match="KUBETRAIL_MAX_INFLATE"):
        load_main().handle(cloud_event(gke_entries()["good"].encode()))
