"""Local files (and `-` for stdin): JSON lines, one JSON document (pretty-printed or not) or a
JSON array, gzip-compressed or not (recognized by its magic bytes, whatever the file is called).

Each document is decoded by detect.decode_document, so any delivery format may appear in a file.
Origin = the path (`<stdin>` for `-`) and the line number, or the array index (`path:[3]`) when
the file is one document.

How a file is read is decided by its first non-blank line: when that line is a JSON document by
itself the file is JSON lines, streamed line by line (memory stays flat: one line at a time, each
at most max_inflate bytes; a longer line is a Failure and reading goes on after it). Otherwise
the whole file is read as one document, bounded by max_inflate (larger: a Failure); if it is not
valid JSON but any later line is a JSON object by itself, it is JSON lines after all, whose
first lines are broken (each its own Failure). A gzip stream that breaks mid-file ends the
file with a Failure for what could not be read, after everything before it. Blank lines are
not records.

A path that does not exist or cannot be read, or a max_inflate below 1, is a ConfigError, raised
by read_paths itself before anything is read. Each file is read under guard.guard_stream: should
reading it raise anyway, that is one Failure for the file and the next file is read.
"""

from __future__ import annotations

import gzip
import itertools
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from kubetrail.errors import ConfigError, DecodeError, Origin
from kubetrail.sources.base import Failure, Outcome
from kubetrail.sources.common import (
    BOM,
    DEFAULT_MAX_INFLATE,
    GZIP_MAGIC,
    check_max_inflate,
    cut,
    escaped,
    is_json,
    is_json_object,
    loads,
)
from kubetrail.sources.guard import guard_stream

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter
    from kubetrail.sources.jsonlines import Part

# The decoders (sources/detect.py, jsonlines.py and what they import: msgspec, orjson) are
# imported when a file's first record is read: an empty input needs none of them.

STDIN = "-"


def read_paths(
    paths: Iterable[Path], prefilter: Prefilter | None = None,
    *, max_inflate: int = DEFAULT_MAX_INFLATE,
) -> Iterator[Outcome]:
    """Outcomes of every record in the given files, in order. Raises ConfigError at once when a
    path is missing, a directory or unreadable."""
    check_max_inflate(max_inflate)
    checked = [check_path(Path(p)) for p in paths]
    return itertools.chain.from_iterable(
        guard_stream(_read(p, prefilter, max_inflate), Origin(source_name(p))) for p in checked)


def source_name(path: Path) -> str:
    """The name outcomes of `path` carry in their Origin."""
    return "<stdin>" if str(path) == STDIN else str(path)


def check_path(path: Path) -> Path:
    """`path`, once known to be readable (or `-`); else ConfigError."""
    if str(path) == STDIN:
        return path
    if path.is_dir():
        raise ConfigError(f"{path} is a directory, not a log file")
    if not path.exists():
        raise ConfigError(f"no such file: {path}")
    if not os.access(path, os.R_OK):
        raise ConfigError(f"cannot read {path}: permission denied")
    return path


def _read(path: Path, prefilter: Prefilter | None, max_inflate: int) -> Iterator[Outcome]:
    if str(path) == STDIN:
        yield from _read_stream(sys.stdin.buffer, "<stdin>", prefilter, max_inflate)
        return
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        yield from _read_stream(handle, str(path), prefilter, max_inflate)


def _read_stream(raw: IO[bytes], source: str, prefilter: Prefilter | None, max_inflate: int,
                 lines_read: list[int] | None = None) -> Iterator[Outcome]:
    peek = getattr(raw, "peek", None)
    stream: IO[bytes] = raw
    if peek is not None and peek(2)[:2] == GZIP_MAGIC:
        stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    lines = _lines(stream, max_inflate)
    head: list[bytes | str] = []
    first = _next_content(lines, head)
    if first is None:
        return
    from kubetrail.sources.detect import decode_document

    if _json_lines_from_the_start(first):
        yield from _json_lines(head, lines, stream, source, prefilter, max_inflate, lines_read)
        return
    size = sum(map(len, head))
    for item in lines:  # the rest of the file, as long as it fits
        head.append(item)
        size += len(item)
        if isinstance(item, str) or size > max_inflate:
            break
    document = b"".join(t for t in head if isinstance(t, bytes))
    origin = Origin(source)
    try:
        if size > max_inflate:
            raise DecodeError(f"document larger than {max_inflate} bytes (only JSON lines files "
                              "may be larger)")
        doc = loads(document.removeprefix(BOM), "JSON document")
    except DecodeError as exc:
        if any(type(t) is bytes and _is_object_line(t) for t in head[1:]):
            yield from _json_lines(head, lines, stream, source, prefilter, max_inflate, lines_read)
            return
        yield Failure(exc.message, origin.child("1"), cut(document))
        if isinstance(head[-1], str):
            yield Failure(head[-1], origin.child(str(len(head))))
        return
    yield from decode_document(doc, origin, prefilter, max_inflate=max_inflate)


def _json_lines_from_the_start(first: bytes | str) -> bool:
    """The file is JSON lines, decided by its first non-blank line (or its reason: too long)."""
    return isinstance(first, str) or first.strip().removeprefix(BOM).lstrip()[:1] not in (
        b"{", b"[") or is_json(first)


def json_lines_start(handle: IO[bytes], max_inflate: int) -> int | None:
    """For an uncompressed file open at its start: the offset where its first non-blank line
    ends when the file is read as JSON lines from that line on, else None (a document, an
    empty file, a file that could not be read). `kubetrail scan --jobs` cuts only such files."""
    lines = _lines(handle, max_inflate)
    first = _next_content(lines, [])
    if first is None or (isinstance(first, str) and first.startswith("unreadable")) \
            or not _json_lines_from_the_start(first):
        return None
    return handle.tell()


def read_chunk(stream: IO[bytes], source: str, prefilter: Prefilter | None, max_inflate: int,
               lines_read: list[int], *, first: bool) -> Iterator[Outcome]:
    """Outcomes of a run of whole lines of an uncompressed JSON lines file (`stream` ends where
    the run ends), numbered from 1 at the run's first line: the first run is read as the whole
    file would be, the others as the lines after a file's first line are. `lines_read[0]`
    grows by the lines numbered as they are read. Not guarded: the caller decides what an
    exception means for the rest of the file."""
    if first:
        return _read_stream(stream, source, prefilter, max_inflate, lines_read)
    return _json_lines([], iter(()), stream, source, prefilter, max_inflate, lines_read)


def _is_object_line(line: bytes) -> bool:
    """A line that is a non-empty JSON object by itself (a pretty-printed document has none,
    but perhaps an empty `{}`)."""
    text = line.strip()
    return len(text) > 2 and is_json_object(text)


def _next_content(lines: Iterator[bytes | str], head: list[bytes | str]) -> bytes | str | None:
    """The next line that is not blank, keeping every line consumed in `head`."""
    for item in lines:
        head.append(item)
        if isinstance(item, str) or item.strip():
            return item
    return None


def _lines(stream: IO[bytes], limit: int) -> Iterator[bytes | str]:
    """Each line's bytes; instead, the reason (str) for a line too long (skipped, reading goes on)
    or for a stream that broke (the last item then)."""
    readline = stream.readline
    lineno = 0
    try:
        while line := readline(limit + 1):
            lineno += 1
            if len(line) > limit and not line.endswith(b"\n"):
                while (rest := readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass
                yield f"line longer than {limit} bytes"
            else:
                yield line
    except (OSError, EOFError, zlib.error) as exc:
        yield f"unreadable from line {lineno + 1} on: {escaped(str(exc))}"


def _json_lines(head: list[bytes | str], lines: Iterator[bytes | str], stream: IO[bytes],
                source: str, prefilter: Prefilter | None, max_inflate: int,
                lines_read: list[int] | None = None) -> Iterator[Outcome]:
    from kubetrail.sources.detect import decode_line
    from kubetrail.sources.jsonlines import json_lines, parts

    # Only an uncompressed file is read in bulk; a gzip stream (bombs) or stdin stays bounded.
    bounded = isinstance(stream, gzip.GzipFile) or source == "<stdin>"
    stream_parts = parts(head, lines, stream, prefilter, bounded=bounded, limit=max_inflate)
    if lines_read is not None:
        stream_parts = _counted(stream_parts, lines_read)
    yield from json_lines(stream_parts, source, prefilter,
                          lambda line, origin: _json_line(decode_line, line, origin, prefilter,
                                                          max_inflate),
                          # a candidate audit Event: the prefilter has had its say
                          lambda line, origin: _json_line(decode_line, line, origin, None,
                                                          max_inflate))


def _counted(stream_parts: Iterator[Part], lines_read: list[int]) -> Iterator[Part]:
    """The parts, counting their lines as json_lines numbers them."""
    from kubetrail.sources.blocks import Scanned

    for part in stream_parts:
        if isinstance(part, Scanned):
            lines_read[0] += part.lines
        elif isinstance(part, str):
            lines_read[0] += 1
        elif isinstance(part, bytes):  # read with readlines: a last line without newline counts
            lines_read[0] += part.count(b"\n") + (part[-1:] not in (b"\n", b""))
        else:
            lines_read[0] += len(part)
        yield part


def _json_line(decode_line: Callable[..., Iterator[Outcome]], text: bytes | str, origin: Origin,
               prefilter: Prefilter | None, max_inflate: int) -> Iterator[Outcome]:
    if type(text) is not bytes:
        yield Failure(str(text), origin)
    else:
        yield from decode_line(text, origin, prefilter, max_inflate=max_inflate)
