"""What the AWS adapters (dedup/dynamodb, publish/sns, deadletter/sqs) share: boto3 clients made
on first use (boto3 is imported then, never at module load) and the translation of SDK errors
into kubetrail's: misconfiguration → ConfigError, anything a retry may cure → PublishError.

Endpoints, region and credentials come from boto3's standard chain, so `AWS_ENDPOINT_URL` (or a
service's `AWS_ENDPOINT_URL_<SERVICE>`) points a client at an emulator; `AWS_MAX_ATTEMPTS` bounds
the SDK's own retries (standard mode, 3 attempts by default)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from kubetrail.errors import ConfigError, KubetrailError, Origin, PublishError

# Error codes that a retry cannot cure: the resource is missing, or we may not touch it.
CONFIG_CODES = frozenset({
    "ResourceNotFoundException", "NotFound", "NotFoundException", "InvalidClientTokenId",
    "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "UnrecognizedClientException",
    "AccessDenied", "AccessDeniedException", "AuthorizationError", "AuthorizationErrorException",
    "InvalidSecurity", "KMSDisabled", "KMSAccessDenied", "KMSNotFound", "KMSInvalidState",
    "KMSDisabledException", "KMSAccessDeniedException", "KMSNotFoundException",
    "KMSInvalidStateException", "InvalidAddress", "ValidationException",
})

# Characters that SNS/SQS refuse in message bodies and attribute values (XML 1.0's complement).
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]+")


def has_forbidden_chars(text: str) -> bool:
    """True when SQS (and thus an SNS→SQS delivery) would reject `text` as a message body."""
    return _NOT_XML_CHAR.search(text) is not None


def clean_attribute(value: str | None, limit: int = 256, default: str = "unknown") -> str:
    """An attribute/subject-safe string: no control or non-XML characters, at most `limit` chars,
    never empty (SNS refuses empty attribute values)."""
    text = " ".join(_CONTROL.sub(" ", _NOT_XML_CHAR.sub("", value or "")).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text or default


class LazyClient:
    """A boto3 client created on first use (thread-safe) and reused afterwards, or the one given."""

    def __init__(self, service: str, client: Any | None = None) -> None:
        self.service = service
        self._client = client
        self._lock = threading.Lock()

    def get(self) -> Any:
        """The client; the first call imports boto3 and builds it from the standard chain."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = make_client(self.service)
        return self._client


def make_client(service: str) -> Any:
    """A client from its own boto3 Session (Sessions are not thread-safe to share while
    building clients), with bounded timeouts and the standard retry mode."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError
    except ImportError as exc:  # pragma: no cover - the aws extra is not installed
        raise ConfigError(f"the aws extra is not installed: {exc}") from exc
    config = Config(retries={"mode": "standard"}, connect_timeout=5, read_timeout=15,
                    user_agent_extra="kubetrail")
    try:
        return boto3.session.Session().client(service, config=config)
    except BotoCoreError as exc:  # e.g. NoRegionError
        raise ConfigError(f"cannot create the {service} client: {exc}") from exc


def error_code(exc: BaseException) -> str | None:
    """The service error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def translate(exc: BaseException, what: str, origin: Origin | None = None) -> KubetrailError:
    """The kubetrail error for an SDK exception raised while doing `what`."""
    if isinstance(exc, KubetrailError):
        return exc
    code = error_code(exc)
    name = type(exc).__name__
    if code in CONFIG_CODES or name in {"NoCredentialsError", "NoRegionError",
                                        "ParamValidationError", "PartialCredentialsError"}:
        return ConfigError(f"{what}: {code or name}: {exc}", origin)
    return PublishError(f"{what}: {code or name}: {exc}", origin)


# SNS and SQS share their limits: 10 entries per batch request, 256 KiB per message and per
# request (body + attributes).
MAX_MESSAGE_BYTES = 256 * 1024
MAX_BATCH_ENTRIES = 10


def attributes_size(attributes: Mapping[str, Mapping[str, str]]) -> int:
    """Bytes that message attributes count toward the size limit (name, type and value)."""
    return sum(len(k) + len(v["DataType"]) + len(v["StringValue"].encode())
               for k, v in attributes.items())


def batch_indexes(sizes: list[int]) -> Iterator[list[int]]:
    """Indexes of entries grouped into batch requests within MAX_BATCH_ENTRIES and
    MAX_MESSAGE_BYTES, in order."""
    chunk: list[int] = []
    size = 0
    for i, n in enumerate(sizes):
        if chunk and (len(chunk) == MAX_BATCH_ENTRIES or size + n > MAX_MESSAGE_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(i)
        size += n
    if chunk:
        yield chunk
