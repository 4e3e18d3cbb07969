"""The error hierarchy. Every error can carry the `Origin` of the record it is about."""

from __future__ import annotations

from kubetrail.record import record


@record(frozen=True, slots=True)
class Origin:
    """Where a record came from: a file and line, a log stream and event id, a partition and
    offset, a Pub/Sub message id. `source` names the container, `position` the place inside it."""

    source: str
    position: str = ""

    def __str__(self) -> str:
        return f"{self.source}:{self.position}" if self.position else self.source

    def child(self, position: str) -> Origin:
        """The origin of a record nested inside this one (e.g. record 3 of an Event Hub body)."""
        return Origin(self.source, f"{self.position}/{position}" if self.position else position)


class KubetrailError(Exception):
    """Base of every error kubetrail raises on purpose."""

    def __init__(self, message: str, origin: Origin | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.origin = origin

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}" if self.origin else self.message


class DecodeError(KubetrailError):
    """A record could not be decoded or normalized. Never fatal for the batch: the record is
    reported as failed (and dead-lettered by the cloud functions); its batch-mates go on."""


class ConfigError(KubetrailError):
    """Settings or rule files are wrong. Fatal: retrying will not help."""


class PublishError(KubetrailError):
    """A dedup store or publisher failed transiently. The platform should retry the batch;
    claims whose publish failed were released, so a retry publishes each finding once."""
