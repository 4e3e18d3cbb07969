"""Azure Storage Queue DeadLetterSink (`azure-storage-queue`, imported on first use).

One queue message per undecodable record: the JSON `dead_letter_document` (reason, source,
position, raw record) as plain UTF-8 text, never expiring (`time_to_live=-1`). A queue message is
at most 64 KiB, so the raw record is cut harder than the port's default (at a UTF-8 character
boundary) until the message fits; `raw_truncated` and `raw_bytes` say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from kubetrail.deadletter.base import dead_letter_document
from kubetrail.dedup.azure_table import translate_storage_error
from kubetrail.errors import ConfigError
from kubetrail.record import replace
from kubetrail.sources.base import Failure

MAX_MESSAGE_BYTES = 48 * 1024  # under the 64 KiB queue limit, with room for XML escaping


def _cut_utf8(raw: bytes, limit: int) -> bytes:
    """`raw` cut to at most `limit` bytes without splitting a UTF-8 character."""
    if len(raw) <= limit:
        return raw
    end = limit
    while end > 0 and (raw[end] & 0xC0) == 0x80:
        end -= 1
    return raw[:end]


def queue_message(failure: Failure, limit: int = MAX_MESSAGE_BYTES) -> str:
    """The message text for one failure, under `limit` bytes."""
    budget = limit
    while True:
        cut = replace(failure, raw=_cut_utf8(failure.raw, budget))
        doc = dead_letter_document(cut)
        doc["cloud"] = "azure"
        doc["raw_bytes"] = len(failure.raw)
        doc["raw_truncated"] = len(cut.raw) < len(failure.raw)
        text = orjson.dumps(doc).decode()
        if len(text.encode()) <= limit or budget == 0:
            return text
        budget = budget // 2 if budget > 64 else 0


class StorageQueueDeadLetterSink:
    """Sends failures to one storage queue. Give `endpoint`
    (`https://<account>.queue.core.windows.net`, with `credential`, by default
    `DefaultAzureCredential`), a `connection_string` (Azurite), or a `QueueClient` as `client`."""

    def __init__(
        self,
        queue: str,
        *,
        endpoint: str | None = None,
        connection_string: str | None = None,
        credential: Any = None,
        client: Any = None,
    ) -> None:
        from azure.core import exceptions as azure_errors

        self.queue = queue
        self._errors = azure_errors
        if client is None:
            from azure.storage.queue import QueueClient

            if connection_string:
                client = QueueClient.from_connection_string(connection_string, queue)
            elif endpoint:
                if credential is None:
                    from azure.identity import DefaultAzureCredential

                    credential = DefaultAzureCredential()
                client = QueueClient(endpoint, queue, credential=credential)
            else:
                raise ConfigError("the dead-letter queue needs an endpoint or a connection string")
        self.client = client

    def send(self, failures: Sequence[Failure]) -> None:
        """One message per failure; PublishError/ConfigError if the queue cannot take them."""
        for failure in failures:
            try:
                self.client.send_message(queue_message(failure), time_to_live=-1)
            except self._errors.AzureError as exc:
                raise translate_storage_error(
                    exc, f"dead-letter queue {self.queue}", self._errors) from exc
