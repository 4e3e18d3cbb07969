"""Pub/Sub Publisher (GCP): one message per finding on the findings topic.

Message data is the finding document (`Finding.to_json()`); attributes are `rule_id`, `severity`,
`cluster`, `cloud` and `finding_id`, each stripped of control characters and cut to Pub/Sub's
1,024-byte value limit, so attacker-chosen names cannot forge or break attributes. Every publish
future is awaited: a failed one is that finding's error; a missing topic or a denied permission
is a ConfigError. The client honours PUBSUB_EMULATOR_HOST; google-cloud-pubsub is imported on
first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubetrail.errors import ConfigError, KubetrailError, PublishError
from kubetrail.findings import Finding
from kubetrail.publish.base import PublishResult

MAX_ATTRIBUTE_VALUE_BYTES = 1024
_CONFIG_ERRORS = ("NotFound", "PermissionDenied", "Unauthenticated", "InvalidArgument")


def clean_attribute(value: object) -> str:
    """A safe Pub/Sub attribute value: printable characters only, at most 1,024 UTF-8 bytes."""
    text = "".join(c for c in str(value) if c.isprintable())
    return text.encode("utf-8", "ignore")[:MAX_ATTRIBUTE_VALUE_BYTES].decode("utf-8", "ignore")


def topic_path(topic: str, project: str | None) -> str:
    """`projects/<p>/topics/<t>` from a full path or a short name plus the project."""
    if topic.startswith("projects/"):
        parts = topic.split("/")
        if len(parts) != 4 or parts[2] != "topics" or not parts[1] or not parts[3]:
            raise ConfigError(f"invalid Pub/Sub topic path {topic!r}")
        return topic
    if not topic or "/" in topic:
        raise ConfigError(f"invalid Pub/Sub topic name {topic!r}")
    if not project:
        raise ConfigError(f"Pub/Sub topic {topic!r} needs a project (GOOGLE_CLOUD_PROJECT)")
    return f"projects/{project}/topics/{topic}"


def translate_error(exc: BaseException, what: str) -> KubetrailError:
    """A google-api-core error as a kubetrail error: missing topic, denied permission or bad
    argument are configuration (ConfigError); anything else is transient (PublishError)."""
    name = type(exc).__name__
    if name in _CONFIG_ERRORS:
        return ConfigError(f"{what}: {name}: {getattr(exc, 'message', exc)}")
    return PublishError(f"{what}: {name}: {exc}")


class TopicPublisher:
    """Publishes messages to one topic and waits for every future. Shared by the findings
    publisher and the dead-letter sink. `timeout` bounds each publish, retries included."""

    def __init__(self, topic: str, *, project: str | None = None, client: Any = None,
                 timeout: float = 30.0) -> None:
        self.topic = topic_path(topic, project)
        from google.api_core import exceptions, retry

        if client is None:
            from google.cloud.pubsub_v1 import PublisherClient

            client = PublisherClient()
        self.client = client
        self.timeout = timeout
        self._exceptions = exceptions
        self._retry = retry.Retry(
            initial=0.1, maximum=2.0, multiplier=2.0, timeout=timeout,
            predicate=retry.if_exception_type(
                exceptions.ServiceUnavailable, exceptions.InternalServerError,
                exceptions.DeadlineExceeded, exceptions.TooManyRequests,
                exceptions.Aborted, exceptions.ResourceExhausted, exceptions.Unknown,
            ),
        )

    def publish_all(self, messages: Sequence[tuple[bytes, Mapping[str, str]]]
                    ) -> list[str | None]:
        """Publish every (data, attributes); one error text (or None) per message, in order.
        Raises ConfigError when the topic is missing or publishing is not allowed."""
        futures: list[Any] = []
        for data, attributes in messages:
            try:
                futures.append(self.client.publish(self.topic, data, retry=self._retry,
                                                   timeout=self.timeout, **attributes))
            except Exception as exc:  # e.g. the client refusing a message outright
                futures.append(exc)
        errors: list[str | None] = []
        config: KubetrailError | None = None
        for future in futures:
            try:
                if isinstance(future, Exception):
                    raise future
                future.result(timeout=self.timeout + 10)
                errors.append(None)
            except Exception as exc:
                error = translate_error(exc, f"publish to {self.topic}")
                if isinstance(error, ConfigError):
                    config = config or error
                errors.append(str(error))
        if config is not None:
            raise config
        return errors


class PubSubPublisher:
    """The Publisher port on a Pub/Sub topic (full path, or short name plus `project`)."""

    def __init__(self, topic: str, *, project: str | None = None, client: Any = None,
                 timeout: float = 30.0) -> None:
        self._topic = TopicPublisher(topic, project=project, client=client, timeout=timeout)
        self.topic = self._topic.topic

    @staticmethod
    def attributes(finding: Finding) -> dict[str, str]:
        """The message attributes subscribers can filter on."""
        return {
            "rule_id": clean_attribute(finding.rule_id),
            "severity": clean_attribute(finding.severity),
            "cluster": clean_attribute(finding.cluster),
            "cloud": clean_attribute(finding.cloud),
            "finding_id": clean_attribute(finding.id),
        }

    def publish(self, findings: Sequence[Finding]) -> Sequence[PublishResult]:
        """Publish each finding as one message; one result per finding, in order."""
        errors = self._topic.publish_all([(f.to_json(), self.attributes(f)) for f in findings])
        return [PublishResult(f.id, e) for f, e in zip(findings, errors, strict=True)]
