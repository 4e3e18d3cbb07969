"""JSON-lines publisher: the local default (`kubetrail scan`), one finding document per line."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import BinaryIO

from kubetrail.findings import Finding
from kubetrail.publish.base import PublishResult


class StdoutPublisher:
    """Writes each finding as one compact JSON line (orjson escapes every control character, so
    a hostile username cannot break the line framing) and flushes per batch."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer

    def publish(self, findings: Sequence[Finding]) -> Sequence[PublishResult]:
        results = []
        for finding in findings:
            try:
                self.stream.write(finding.to_json() + b"\n")
            except OSError as exc:  # e.g. a closed pipe: report it rather than lose silently
                results.append(PublishResult(finding.id, f"write failed: {exc}"))
                continue
            results.append(PublishResult(finding.id))
        try:
            self.stream.flush()
        except OSError as exc:  # nothing of this batch is known to have arrived
            return [PublishResult(f.id, f"flush failed: {exc}") for f in findings]
        return results
