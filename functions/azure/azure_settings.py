"""The Azure function's settings (app settings → one frozen record, read once) and the
components built from them. Only `functions/azure/function_app.py` uses this module. Importing
it imports no kubetrail component: `build` does, on the first invocation (cold start)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from kubetrail.errors import ConfigError
from kubetrail.record import record

if TYPE_CHECKING:
    from kubetrail.deadletter.storage_queue import StorageQueueDeadLetterSink
    from kubetrail.dedup.azure_table import AzureTableDedupStore
    from kubetrail.pipeline import Pipeline

# KUBETRAIL_CONFIG names a rules configuration packaged here (make package-* RULES_CONFIG=).
FUNCTION_DIR = Path(__file__).resolve().parent


@record(frozen=True, slots=True)
class Settings:
    """In Azure the endpoints are used with the function's managed identity; the connection
    string and the Event Grid key exist only for Azurite and the local Event Grid stand-in."""

    dedup_table: str
    deadletter_queue: str
    eventgrid_endpoint: str
    table_endpoint: str | None = None
    queue_endpoint: str | None = None
    storage_connection_string: str | None = None
    eventgrid_key: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Read the KUBETRAIL_* app settings; ConfigError names every one that is missing."""
        def get(name: str) -> str | None:
            return (env.get(name) or "").strip() or None

        settings = cls(
            dedup_table=get("KUBETRAIL_DEDUP_TABLE") or "",
            deadletter_queue=get("KUBETRAIL_DEADLETTER_QUEUE") or "",
            eventgrid_endpoint=get("KUBETRAIL_EVENTGRID_ENDPOINT") or "",
            table_endpoint=get("KUBETRAIL_TABLE_ENDPOINT"),
            queue_endpoint=get("KUBETRAIL_QUEUE_ENDPOINT"),
            storage_connection_string=get("KUBETRAIL_STORAGE_CONNECTION_STRING"),
            eventgrid_key=get("KUBETRAIL_EVENTGRID_KEY"),
        )
        missing = [name for name, value in (
            ("KUBETRAIL_DEDUP_TABLE", settings.dedup_table),
            ("KUBETRAIL_DEADLETTER_QUEUE", settings.deadletter_queue),
            ("KUBETRAIL_EVENTGRID_ENDPOINT", settings.eventgrid_endpoint),
            ("KUBETRAIL_TABLE_ENDPOINT", settings.table_endpoint
             or settings.storage_connection_string),
            ("KUBETRAIL_QUEUE_ENDPOINT", settings.queue_endpoint
             or settings.storage_connection_string),
        ) if not value]
        if missing:
            raise ConfigError(f"missing app settings: {', '.join(missing)}")
        return settings


@record(frozen=True, slots=True)
class Components:
    """What one function instance keeps between invocations."""

    pipeline: Pipeline
    dedup: AzureTableDedupStore
    deadletter: StorageQueueDeadLetterSink


def build(settings: Settings) -> Components:
    """Rules, Table Storage dedup, Event Grid publisher and the dead-letter queue; in Azure all
    three share one managed-identity credential (one token cache)."""
    from kubetrail.deadletter.storage_queue import StorageQueueDeadLetterSink
    from kubetrail.dedup.azure_table import AzureTableDedupStore
    from kubetrail.pipeline import Pipeline
    from kubetrail.publish.eventgrid import EventGridPublisher
    from kubetrail.publish.formats import finding_format, with_format
    from kubetrail.rules import RuleSet
    from kubetrail.rules.config import rules_for_function

    rules = RuleSet(rules_for_function(os.environ, FUNCTION_DIR))
    fmt = finding_format(os.environ)
    credential = None
    if not (settings.storage_connection_string and settings.eventgrid_key):
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    dedup = AzureTableDedupStore(settings.dedup_table, endpoint=settings.table_endpoint,
                                 connection_string=settings.storage_connection_string,
                                 credential=credential)
    publisher = EventGridPublisher(settings.eventgrid_endpoint, key=settings.eventgrid_key,
                                   credential=credential)
    deadletter = StorageQueueDeadLetterSink(
        settings.deadletter_queue, endpoint=settings.queue_endpoint,
        connection_string=settings.storage_connection_string, credential=credential)
    return Components(Pipeline(rules, dedup, with_format(publisher, fmt)), dedup, deadletter)
