"""The Azure function under test: settings pointing at Azurite and the Event Grid stand-in, a
fresh table and queue per test, and a fresh instance of function_app.py."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.data.tables import TableServiceClient
from azure.storage.queue import QueueClient

from kubetrail.local.azure import eventhub_events, load_function, user_function
from tests.emulators.azurite import EventGridStandin
from tests.factories import seed_only_config


@dataclass
class FunctionUnderTest:
    """The real function (`kubetrail_audit`), invoked with Event Hub events the way the worker
    would, and what it reaches."""

    invoke: Callable[[list[Any]], None]
    module: Any
    queue: QueueClient
    table: str

    def deliver(self, payloads: Sequence[bytes], first_sequence: int = 0) -> None:
        self.invoke(eventhub_events(payloads, partition="3", first_sequence=first_sequence))

    def dead_letters(self) -> list[str]:
        return [m.content for m in self.queue.peek_messages(max_messages=32)]


def configure(monkeypatch: pytest.MonkeyPatch, connection_string: str, standin: EventGridStandin
              ) -> FunctionUnderTest:
    """Fresh table and queue in this Azurite, the settings in the environment, a new function."""
    table, queue_name = "dedup" + uuid.uuid4().hex[:12], "dl-" + uuid.uuid4().hex[:12]
    TableServiceClient.from_connection_string(connection_string).create_table(table)
    queue = QueueClient.from_connection_string(connection_string, queue_name)
    queue.create_queue()
    settings = {
        "KUBETRAIL_STORAGE_CONNECTION_STRING": connection_string,
        "KUBETRAIL_DEDUP_TABLE": table, "KUBETRAIL_DEADLETTER_QUEUE": queue_name,
        "KUBETRAIL_EVENTGRID_ENDPOINT": standin.endpoint, "KUBETRAIL_EVENTGRID_KEY": standin.key,
    }
    for name in ("KUBETRAIL_TABLE_ENDPOINT", "KUBETRAIL_QUEUE_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    # Delivery, dedup and publishing are under test: the seed rule alone, via KUBETRAIL_CONFIG.
    config_dir = Path(tempfile.mkdtemp(prefix="kubetrail-config-"))
    monkeypatch.setenv("KUBETRAIL_CONFIG", str(seed_only_config(config_dir)))
    module = load_function()
    return FunctionUnderTest(user_function(module), module, queue, table)
