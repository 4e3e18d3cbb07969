"""SQS DeadLetterSink: one message per undecodable record on the dead-letter queue.

Body: `dead_letter_document(failure)` as ASCII JSON (`{"reason", "source", "position", "raw" |
"raw_base64", "raw_truncated"}`; for EKS, source = log group, position = `<stream>/<event id>`),
under SQS's 256 KiB: a record too large even after the port's cut is cut further and flagged
`raw_truncated`. Message attributes: `kind` = `kubetrail.undecodable-record` (the queue also
receives Lambda's on-failure records) and `source`. SendMessageBatch carries up to 10 messages
(<= 256 KiB per request); any entry SQS refuses makes `send` raise PublishError, so that the
platform retries the batch rather than losing the record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kubetrail.deadletter.base import dead_letter_document
from kubetrail.errors import ConfigError, PublishError
from kubetrail.sdk.aws import (
    MAX_MESSAGE_BYTES,
    LazyClient,
    attributes_size,
    batch_indexes,
    clean_attribute,
    translate,
)
from kubetrail.sources.base import Failure

KIND = "kubetrail.undecodable-record"


def message_body(failure: Failure, limit: int = MAX_MESSAGE_BYTES - 2048) -> str:
    """The dead-letter document as ASCII JSON (any byte SQS could refuse is escaped), cut to fit
    `limit` bytes: the longest prefix of the raw record that fits is kept, flagged truncated."""
    doc = dead_letter_document(failure)
    doc["reason"] = doc["reason"][:4096]
    body = json.dumps(doc, ensure_ascii=True)
    if len(body) <= limit:
        return body
    field = "raw" if "raw" in doc else "raw_base64"
    full, lo, hi = doc[field], 0, len(doc[field])
    if field == "raw_base64":  # keep whole base64 quanta
        hi -= hi % 4
    doc["raw_truncated"] = True
    while lo < hi:  # the longest prefix that fits
        mid = (lo + hi + 1) // 2
        doc[field] = full[:mid]
        if len(json.dumps(doc, ensure_ascii=True)) <= limit:
            lo = mid
        else:
            hi = mid - 1
    doc[field] = full[: lo - lo % 4] if field == "raw_base64" else full[:lo]
    return json.dumps(doc, ensure_ascii=True)


class SqsDeadLetterSink:
    """Sends failed records to one SQS queue (`client` injectable for tests)."""

    def __init__(self, queue_url: str, *, client: Any | None = None) -> None:
        if not queue_url.startswith(("https://", "http://")):
            raise ConfigError(f"not an SQS queue URL: {queue_url!r}")
        self.queue_url = queue_url
        self._client = LazyClient("sqs", client)

    def send(self, failures: Sequence[Failure]) -> None:
        """Send every failure; raise PublishError if SQS is unreachable or refuses any entry."""
        entries: list[dict[str, Any]] = [{"MessageBody": message_body(f), "MessageAttributes": {
            "kind": {"DataType": "String", "StringValue": KIND},
            "source": {"DataType": "String", "StringValue": clean_attribute(f.origin.source)},
        }} for f in failures]
        refused: list[str] = []
        sizes = [len(e["MessageBody"]) + attributes_size(e["MessageAttributes"])  # ASCII body
                 for e in entries]
        for chunk in batch_indexes(sizes):
            request = [{"Id": str(i), **entries[i]} for i in chunk]
            try:
                response = self._client.get().send_message_batch(QueueUrl=self.queue_url,
                                                                 Entries=request)
            except Exception as exc:
                raise translate(exc, f"sqs send_message_batch to {self.queue_url}") from exc
            refused += [f"{failures[int(f['Id'])].origin}: {f.get('Code')}: {f.get('Message')}"
                        for f in response.get("Failed", [])]
        if refused:
            raise PublishError(f"{len(refused)} dead-letter message(s) refused by "
                               f"{self.queue_url}: " + "; ".join(refused[:5]))

