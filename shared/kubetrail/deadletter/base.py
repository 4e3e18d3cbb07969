"""The DeadLetterSink port and the one document every sink sends per failed record."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, Protocol

from kubetrail.sources.base import Failure

MAX_RAW_BYTES = 200 * 1024


def dead_letter_document(failure: Failure) -> dict[str, Any]:
    """`{"reason", "source", "position", "raw" | "raw_base64", "raw_truncated"}`: the raw record as
    text when it is valid UTF-8, else base64; cut to MAX_RAW_BYTES so the message fits any queue."""
    raw = failure.raw[:MAX_RAW_BYTES]
    doc: dict[str, Any] = {
        "reason": failure.reason,
        "source": failure.origin.source,
        "position": failure.origin.position,
        "raw_truncated": len(failure.raw) > MAX_RAW_BYTES,
    }
    for end in range(len(raw), max(len(raw) - 4, -1), -1):  # a cut may split one character
        try:
            doc["raw"] = raw[:end].decode("utf-8")
            return doc
        except UnicodeDecodeError:
            continue
    doc["raw_base64"] = base64.b64encode(raw).decode("ascii")
    return doc


class DeadLetterSink(Protocol):
    """Keeps records that could not be decoded, for a human or a replay."""

    def send(self, failures: Sequence[Failure]) -> None:
        """Send every failure; raise PublishError when the sink is unreachable (retry the batch)."""
        ...
