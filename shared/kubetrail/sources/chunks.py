"""A large uncompressed JSON-lines file in chunks of whole lines, each readable by itself exactly
as the whole file's reader reads those lines (sources/files.py), for `kubetrail scan --jobs`.

Chunks are cut by the process that plans them: a chunk ends after the first newline at or
after its nominal end (start + chunk bytes), so every chunk starts at a line start and no line
is split; the first chunk always holds the file's first non-blank line (format detection
reads it). The last chunk reads to the end of the file as it is then (a file that grows while
it is scanned is read to its end, as the sequential reader does).

Records inside a chunk are numbered from 1 at its first line; `shifted` turns such an origin
into the file's own numbering once the lines of the chunks before it are known (the reader
counts them as it numbers them: files.read_chunk).
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from kubetrail.errors import Origin
from kubetrail.jobsettings import MIN_CHUNKS
from kubetrail.sources.common import GZIP_MAGIC
from kubetrail.sources.files import json_lines_start

_FIND = 1 << 16
TAIL_FRACTION = 8  # the smallest chunk at a file's end, as a fraction of a chunk


def splittable(path: Path, chunk_bytes: int, max_inflate: int) -> int | None:
    """Where the first chunk may end at the earliest (after the first non-blank line) when
    `path` is a regular, uncompressed JSON lines file of at least MIN_CHUNKS chunks; else None."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size < MIN_CHUNKS * chunk_bytes:
            return None
        with path.open("rb") as handle:
            if handle.peek(2)[:2] == GZIP_MAGIC:
                return None
            return json_lines_start(handle, max_inflate)
    except OSError:
        return None  # the sequential reader reports it as it always does


def boundaries(handle: IO[bytes], first_end: int, chunk_bytes: int, workers: int = 1
               ) -> Iterator[tuple[int, int | None]]:
    """(start, end) of each chunk in order; end None for the last (to the end of the file).

    For several `workers`, the chunks that end the file get smaller: once less than one chunk
    per worker is left, each takes that rest's share of a worker (at least TAIL_FRACTION of a
    chunk), so that the workers finish close together and the last results come quickly."""
    size = os.fstat(handle.fileno()).st_size if workers > 1 else 0
    least = max(1, chunk_bytes // TAIL_FRACTION)
    start = 0
    while True:
        left = size - start
        step = chunk_bytes if workers < 2 or left >= workers * chunk_bytes \
            else max(least, -(-left // workers))
        nominal = max(start + step, first_end if start == 0 else 0)
        if workers > 1 and nominal + least > size:  # (the rest: no crumb of a chunk after it)
            yield start, None
            return
        end = _line_end(handle, nominal - 1)
        if end is None:
            yield start, None
            return
        yield start, end
        start = end


def _line_end(handle: IO[bytes], pos: int) -> int | None:
    """The offset after the first newline at or after `pos`, None when there is none."""
    handle.seek(pos)
    while piece := handle.read(_FIND):
        found = piece.find(b"\n")
        if found >= 0:
            return pos + found + 1
        pos += len(piece)
    return None


class ChunkStream(io.RawIOBase):
    """Bytes start..end of a file (end None: to its end); `failed` tells that a read raised
    (the sequential reader stops the file there)."""

    def __init__(self, path: Path, start: int, end: int | None) -> None:
        super().__init__()
        self._file = io.FileIO(path, "r")
        self._file.seek(start)
        self._left = -1 if end is None else end - start
        self.failed = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        want = len(buffer) if self._left < 0 else min(len(buffer), self._left)
        if want <= 0:
            return 0
        try:
            with memoryview(buffer) as view:
                got = self._file.readinto(view[:want]) or 0
        except OSError:
            self.failed = True
            raise
        if self._left >= 0:
            self._left -= got
        return got

    def close(self) -> None:
        self._file.close()
        super().close()


def open_chunk(path: Path, start: int, end: int | None) -> tuple[io.BufferedReader, ChunkStream]:
    """A buffered reader of the chunk (what the readers take) and its counting raw stream."""
    raw = ChunkStream(path, start, end)
    return io.BufferedReader(raw, buffer_size=1 << 16), raw


def shifted(origin: Origin, lines: int) -> Origin:
    """`origin` (numbered from a chunk's first line) numbered from the file's first line, when
    `lines` lines come before the chunk: `3/records[1]` becomes `lines + 3/records[1]`."""
    if not lines:
        return origin
    head, sep, rest = origin.position.partition("/")
    if not (head.isascii() and head.isdigit()):
        return origin  # the file itself (a Failure of the whole file)
    return Origin(origin.source, f"{int(head) + lines}{sep}{rest}")
