"""Progress of a long scan on stderr, for a person watching a terminal: records, records/s,
bytes read and findings so far, redrawn in place at most a few times a second. Nothing is
written when stderr is not a terminal (logs and pipes get only the final summary)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO, TypeVar

T = TypeVar("T")
_PROC_IO = Path("/proc/self/io")


def bytes_read() -> int | None:
    """Bytes this process has read so far (Linux `rchar`), or None where the kernel does not
    say; reading it costs a few microseconds, so it is sampled with the redraws only."""
    try:
        for line in _PROC_IO.read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


class Progress:
    """Counts items passing through `track` and redraws one status line every `interval`."""

    def __init__(self, stream: TextIO, findings: Callable[[], int], *, interval: float = 0.5,
                 clock: Callable[[], float] = time.monotonic,
                 more_bytes: Callable[[], int] | None = None) -> None:
        self.stream = stream
        self.findings = findings
        self.more_bytes = more_bytes  # bytes read for us by other processes (scan --jobs)
        self.interval = interval
        self.clock = clock
        self.count = 0
        self._start = self._last = clock()
        self._base = bytes_read() or 0
        self._drawn = False

    def line(self) -> str:
        elapsed = max(self.clock() - self._start, 1e-9)
        read = bytes_read()
        if read is not None and self.more_bytes is not None:
            read += self.more_bytes()
        parts = [f"{self.count:,} records", f"{self.count / elapsed:,.0f}/s"]
        if read is not None:
            parts.append(f"{_size(max(read - self._base, 0))} read")
        parts.append(f"{self.findings():,} findings")
        return "kubetrail: " + ", ".join(parts)

    def track(self, items: Iterable[T], weight: Callable[[T], int] = lambda _: 1) -> Iterator[T]:
        """Pass `items` through, counting `weight(item)` records each."""
        for item in items:
            self.count += weight(item)
            now = self.clock()
            if now - self._last >= self.interval:
                self._last = now
                self.stream.write("\r\x1b[2K" + self.line())
                self.stream.flush()
                self._drawn = True
            yield item
        self.close()

    def close(self) -> None:
        """Erase the status line so the summary starts on a clean line."""
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False


def maybe_progress(stream: TextIO, findings: Callable[[], int],
                   more_bytes: Callable[[], int] | None = None) -> Progress | None:
    """A Progress when `stream` is a terminal, else None."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return None
    return Progress(stream, findings, more_bytes=more_bytes) if tty else None
