"""The Azure function end to end: Event Hub events built as the trigger host builds them, the real
function_app.py, Table Storage and the dead-letter queue on Azurite, findings on the Event Grid
stand-in; then the services going away mid-run and coming back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubetrail.errors import ConfigError, PublishError
from tests.emulators.azurite import Azurite, EventGridStandin
from tests.functions.azure.harness import FunctionUnderTest, configure
from tests.functions.azure.records import aks_record, audit_event, body, daemonset_created

pytestmark = pytest.mark.azure


def users(standin: EventGridStandin) -> list[str]:
    return sorted(e["data"]["context"]["username"] for e in standin.events())


def test_trigger_is_a_batched_event_hub_trigger_with_endless_backoff(
        function: FunctionUnderTest) -> None:
    built = function.module.kubetrail_audit.build()
    [binding] = json.loads(built.get_function_json())["bindings"]
    assert binding == {
        "direction": "IN", "dataType": "BINARY", "type": "eventHubTrigger", "name": "events",
        "connection": "KUBETRAIL_EVENTHUB", "eventHubName": "%KUBETRAIL_EVENTHUB_NAME%",
        "cardinality": "MANY", "consumerGroup": "%KUBETRAIL_EVENTHUB_CONSUMER_GROUP%"}
    retry = built.get_setting("retry_policy").get_dict_repr()
    assert retry["strategy"] == "exponential_backoff"
    assert retry["max_retry_count"] == "-1"  # never give up: the checkpoint never skips a batch


def test_a_batch_publishes_each_finding_once_and_dead_letters_only_broken_records(
        function: FunctionUnderTest, eventgrid: EventGridStandin) -> None:
    payloads = [
        body(daemonset_created("alice@example.com"),
             aks_record(audit_event("alice@example.com", verb="get")),
             aks_record(audit_event("bob@example.com"), category="kube-apiserver"),
             {**daemonset_created("mallory@example.com"), "category": None}),
        b'{"records": [{"category": "kube-audit", "properties": ',  # cut off: not JSON
        body(daemonset_created("bob@example.com", "web"),
             daemonset_created("alice@example.com", minutes=5)),  # same window as alice's
    ]
    function.deliver(payloads, first_sequence=100)
    assert users(eventgrid) == ["alice@example.com", "bob@example.com"]
    letters = sorted((json.loads(m) for m in function.dead_letters()),
                     key=lambda d: d["position"])
    assert [(d["source"], d["position"]) for d in letters] == [
        ("eventhub:aks-audit/3", "offset=0,seq=100/records[3]"),
        ("eventhub:aks-audit/3", f"offset={len(payloads[0])},seq=101"),
    ]
    assert "category" in letters[0]["reason"] and "mallory@example.com" in letters[0]["raw"]
    assert letters[1]["raw"] == payloads[1].decode()

    function.deliver(payloads, first_sequence=100)  # the same batch again (a retry)
    assert users(eventgrid) == ["alice@example.com", "bob@example.com"]


def test_missing_settings_are_a_config_error(function: FunctionUnderTest,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBETRAIL_DEDUP_TABLE")
    monkeypatch.delenv("KUBETRAIL_STORAGE_CONNECTION_STRING")
    with pytest.raises(ConfigError) as info:
        function.deliver([body(daemonset_created("alice@example.com"))])
    assert "KUBETRAIL_DEDUP_TABLE" in str(info.value)
    assert "KUBETRAIL_TABLE_ENDPOINT" in str(info.value)


def test_a_missing_dedup_table_is_a_config_error(function: FunctionUnderTest,
                                                 azurite: str) -> None:
    from azure.data.tables import TableServiceClient

    TableServiceClient.from_connection_string(azurite).delete_table(function.table)
    with pytest.raises(ConfigError, match="does not exist"):
        function.deliver([body(daemonset_created("alice@example.com"))])


def test_event_grid_down_mid_run_then_back_publishes_each_finding_once(
        azurite: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    standin = EventGridStandin(record=tmp_path / "accepted.jsonl").start()
    try:
        function = configure(monkeypatch, azurite, standin)
        first = [body(daemonset_created("alice@example.com"))]
        second = [body(daemonset_created("bob@example.com"),
                       daemonset_created("carol@example.com"))]
        function.deliver(first)
        standin.stop()
        with pytest.raises(PublishError, match="Event Grid"):
            function.deliver(second, first_sequence=1)
        standin.start()  # same port, same key, same record
        function.deliver(second, first_sequence=1)  # the platform's retry
        function.deliver(first)  # and a redelivery of the first batch
        assert users(standin) == ["alice@example.com", "bob@example.com", "carol@example.com"]
    finally:
        standin.stop()


def test_table_storage_down_mid_run_then_back_publishes_each_finding_once(
        eventgrid: EventGridStandin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    storage = Azurite(tmp_path, location=tmp_path / "data").start()
    try:
        function = configure(monkeypatch, storage.connection_string, eventgrid)
        first = [body(daemonset_created("alice@example.com"))]
        second = [body(daemonset_created("bob@example.com"),
                       daemonset_created("carol@example.com"))]
        function.deliver(first)
        storage.stop()
        with pytest.raises(PublishError, match="dedup table"):
            function.deliver(second, first_sequence=1)
        assert users(eventgrid) == ["alice@example.com"]
        storage.start()  # same ports, same data directory
        function.deliver(second, first_sequence=1)
        function.deliver(first)
        assert users(eventgrid) == ["alice@example.com", "bob@example.com", "carol@example.com"]
    finally:
        storage.stop()


def test_in_azure_the_clients_use_the_managed_identity_not_keys() -> None:
    from azure.identity import DefaultAzureCredential

    from kubetrail.local.azure import load_function

    app = load_function()  # function_app.py imports Settings and build from azure_settings
    settings = app.Settings.from_env({
        "KUBETRAIL_TABLE_ENDPOINT": "https://kt1.table.core.windows.net/",
        "KUBETRAIL_QUEUE_ENDPOINT": "https://kt1.queue.core.windows.net/",
        "KUBETRAIL_DEDUP_TABLE": "kubetraildedup", "KUBETRAIL_DEADLETTER_QUEUE": "kubetrail-dl",
        "KUBETRAIL_EVENTGRID_ENDPOINT": "https://kt.westeurope-1.eventgrid.azure.net/api/events",
    })
    assert settings.storage_connection_string is None and settings.eventgrid_key is None
    parts = app.build(settings)  # builds clients only: no token is fetched before the first call
    table, queue = parts.dedup.client, parts.deadletter.client
    assert table.url.startswith("https://kt1.table.core.windows.net")
    assert queue.url.startswith("https://kt1.queue.core.windows.net/kubetrail-dl")
    assert isinstance(table.credential, DefaultAzureCredential)
    assert queue.credential is table.credential  # one identity, one token cache
