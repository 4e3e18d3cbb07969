"""Azure Event Grid Publisher (`azure-eventgrid`, imported on first use).

Each finding becomes one CloudEvents 1.0 event on a custom topic whose input schema is
CloudEvents: `type` = `kubetrail.finding`, `source` = the cluster, `subject` = the rule id,
`id` = the finding id (stable per dedup window, so a subscriber can drop a redelivery), `time` =
the event time, `data` = the finding document, plus the extension attribute `severity` for
subscription filters. Attribute values are cleaned (control characters percent-encoded or
replaced, bounded length), so an attacker-chosen cluster or user name cannot forge attributes.

Event Grid takes at most 1 MB per event and per batch; findings are capped far below that
(kubetrail.findings), and batches are cut to stay under the limit. A batch is all-or-nothing.
If the topic is unreachable before anything was sent, `publish` raises (PublishError, or
ConfigError for a missing topic or refused credentials); once a batch went through, later
failures become per-finding errors, so the pipeline confirms what was sent and releases the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import orjson

from kubetrail.errors import ConfigError, Origin, PublishError
from kubetrail.findings import Finding
from kubetrail.publish.base import PublishResult

EVENT_TYPE = "kubetrail.finding"
MAX_BATCH_BYTES = 1024 * 1024
BATCH_BUDGET = MAX_BATCH_BYTES - 64 * 1024  # room for the SDK's own serialization differences
MAX_ATTRIBUTE_CHARS = 256


def clean_source(cluster: str) -> str:
    """The CloudEvents `source` for a cluster: a URI-reference with every character outside the
    unreserved set percent-encoded (control characters included), bounded in length."""
    return quote(cluster, safe="-._~")[:MAX_ATTRIBUTE_CHARS] or "unknown-cluster"


def clean_text(value: str) -> str:
    """A printable, bounded attribute value (subject, severity)."""
    text = "".join(c if c.isprintable() else "\ufffd" for c in value)
    return text[:MAX_ATTRIBUTE_CHARS]


def to_cloud_event(finding: Finding) -> dict[str, Any]:
    """The CloudEvents 1.0 attributes and data of one finding, as sent (JSON form)."""
    doc = orjson.loads(finding.to_json())
    return {
        "specversion": "1.0",
        "id": finding.id,
        "source": clean_source(finding.cluster),
        "type": EVENT_TYPE,
        "subject": clean_text(finding.rule_id),
        "time": doc.get("event_time"),
        "datacontenttype": "application/json",
        "severity": clean_text(finding.severity).lower(),
        "data": doc,
    }


class EventGridPublisher:
    """Publishes findings to an Event Grid custom topic (`https://<topic>.<region>-1.eventgrid.
    azure.net/api/events`). Authenticates with `key` (local stand-in only) or `credential`
    (default: `DefaultAzureCredential`, the function's managed identity with the "EventGrid Data
    Sender" role); or give an `azure.eventgrid.EventGridPublisherClient` as `client`."""

    def __init__(
        self,
        endpoint: str,
        *,
        key: str | None = None,
        credential: Any = None,
        client: Any = None,
        **client_options: Any,
    ) -> None:
        from azure.core import exceptions as azure_errors
        from azure.core.messaging import CloudEvent

        self.endpoint = endpoint
        self._errors, self._cloud_event = azure_errors, CloudEvent
        if client is None:
            from azure.eventgrid import EventGridPublisherClient

            if key:
                from azure.core.credentials import AzureKeyCredential

                credential = AzureKeyCredential(key)
            elif credential is None:
                from azure.identity import DefaultAzureCredential

                credential = DefaultAzureCredential()
            client = EventGridPublisherClient(endpoint, credential, **client_options)
        self.client = client

    def publish(self, findings: Sequence[Finding]) -> Sequence[PublishResult]:
        """Send every finding, in batches under 1 MB; one result per finding, in order."""
        results: list[PublishResult] = []
        sent_any = False
        for batch in self._batches(findings):
            try:
                self.client.send([self._event(e) for _, e in batch])
            except self._errors.AzureError as exc:
                error = self._translate(exc)
                if not sent_any and (isinstance(error, ConfigError) or _transient(exc)):
                    raise error from exc
                results.extend(PublishResult(f.id, str(error)) for f, _ in batch)
                continue
            sent_any = True
            results.extend(PublishResult(f.id) for f, _ in batch)
        return results

    def _batches(self, findings: Sequence[Finding]) -> list[list[tuple[Finding, dict[str, Any]]]]:
        batches: list[list[tuple[Finding, dict[str, Any]]]] = []
        size = 0
        for finding in findings:
            event = to_cloud_event(finding)
            event_size = len(orjson.dumps(event)) + 1
            if not batches or size + event_size > BATCH_BUDGET:
                batches.append([])
                size = 0
            batches[-1].append((finding, event))
            size += event_size
        return batches

    def _event(self, event: dict[str, Any]) -> Any:
        time = datetime.fromisoformat(event["time"].replace("Z", "+00:00")) \
            if event.get("time") else None
        return self._cloud_event(
            source=event["source"], type=event["type"], data=event["data"], id=event["id"],
            subject=event["subject"], time=time, datacontenttype=event["datacontenttype"],
            extensions={"severity": event["severity"]},
        )

    def _translate(self, exc: Exception) -> Exception:
        origin = Origin(f"eventgrid:{self.endpoint}")
        status = getattr(exc, "status_code", None)
        if isinstance(exc, self._errors.ClientAuthenticationError) or status in (401, 403):
            return ConfigError(f"Event Grid refused the credentials ({status}): check the "
                               f"EventGrid Data Sender role or the key", origin)
        if isinstance(exc, self._errors.ResourceNotFoundError) or status == 404:
            return ConfigError("Event Grid topic not found: check KUBETRAIL_EVENTGRID_ENDPOINT",
                               origin)
        message = str(exc).split("\n")[0]
        return PublishError(f"Event Grid publish failed: {type(exc).__name__}: {message}", origin)


def _transient(exc: Exception) -> bool:
    status = getattr(exc, "status_code", None)
    return status is None or status in (408, 429) or status >= 500
