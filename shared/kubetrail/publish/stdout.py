"""JSON-lines publisher: the local default (`kubetrail scan`), one finding document per line."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import BinaryIO

from kubetrail.findings import Finding
from kubetrail.publish.base import PublishResult
from kubetrail.textsafe import safe_json_line


class StdoutPublisher:
    """Writes each finding as one compact JSON line and flushes per batch. Every control, bidi
    and line-separator character inside its strings is written as \\uXXXX (kubetrail.textsafe),
    so a hostile username can neither break the line framing nor drive the terminal."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer

    def publish(self, findings: Sequence[Finding]) -> Sequence[PublishResult]:
        results = []
        for finding in findings:
            try:
                self.stream.write(safe_json_line(finding.to_json()) + b"\n")
            except OSError as exc:  # e.g. a closed pipe: report it rather than lose silently
                results.append(PublishResult(finding.id, f"write failed: {exc}"))
                continue
            results.append(PublishResult(finding.id))
        try:
            self.stream.flush()
        except OSError as exc:  # nothing of this batch is known to have arrived
            return [PublishResult(f.id, f"flush failed: {exc}") for f in findings]
        return results
