"""Pub/Sub DeadLetterSink (GCP): one message per undecodable record on the dead-letter topic.

Data is `dead_letter_document(failure)` as JSON (`reason`, `source`, `position`, `raw` or
`raw_base64`, `raw_truncated`). Attributes repeat `reason`, `source` and `position` (for a Pub/Sub
delivery: the subscription or topic and the message id) so that subscriptions can filter without
parsing, plus `kind=kubetrail-dead-letter`; values are cleaned like finding attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from kubetrail.deadletter.base import dead_letter_document
from kubetrail.errors import PublishError
from kubetrail.publish.pubsub import TopicPublisher, clean_attribute
from kubetrail.sources.base import Failure


class PubSubDeadLetterSink:
    """The DeadLetterSink port on a Pub/Sub topic (full path, or short name plus `project`)."""

    def __init__(self, topic: str, *, project: str | None = None, client: Any = None,
                 timeout: float = 30.0) -> None:
        self._topic = TopicPublisher(topic, project=project, client=client, timeout=timeout)
        self.topic = self._topic.topic

    @staticmethod
    def message(failure: Failure) -> tuple[bytes, dict[str, str]]:
        """The (data, attributes) of one failure's dead-letter message."""
        attributes = {
            "kind": "kubetrail-dead-letter",
            "reason": clean_attribute(failure.reason),
            "source": clean_attribute(failure.origin.source),
            "position": clean_attribute(failure.origin.position),
        }
        return orjson.dumps(dead_letter_document(failure)), attributes

    def send(self, failures: Sequence[Failure]) -> None:
        """Publish every failure; raise PublishError (retry the delivery) if any was not sent,
        ConfigError if the topic is missing."""
        if not failures:
            return
        errors = [e for e in self._topic.publish_all([self.message(f) for f in failures]) if e]
        if errors:
            raise PublishError(f"{len(errors)} dead-letter message(s) not sent: {errors[0]}")
