"""JSON lines, the bulk of any EKS export: read in blocks and prefiltered in bulk.

This is the benchmark's hot loop. An uncompressed file is read in blocks of whole lines (about
BLOCK_BYTES: one read, no object per line). With a prefilter, a block is light-decoded in one
call (rules/lightevent.py `decode_block`: only the fields rules can require, typed); when every
line of it is a well-typed audit Event, the rules' candidates are picked in C-level passes
(`Prefilter.candidates`) and every other line joins a run that leaves as one
`Prefiltered(count=n)`; only the candidate lines are cut out and decoded one by one
(files.json_line). Any other block — a blank, cut or malformed line, another format, a Panther
log, non-ASCII bytes — is split into its lines and read as a batch of lines, so every defect is
still reported with its line number and a block decides what its lines would.

A batch of lines is light-decoded line by line (leniently: `kind` and `p_log_type` as they
are); lines that are audit Events no rule can match are prefiltered, the others decoded one by
one. Which lines are audit Events is decided as detect.decode_line decides it: `kind` is "Event"
and there is no `p_log_type` (a duplicated key counts with its last value, as for the full
decoder). A batch that is not all ASCII, or holds a line the light decoder rejects, is decoded
line by line.

Reading: a gzip stream or stdin is read line by line with a bounded readline, so a
decompression bomb never becomes one huge line in memory. An uncompressed line longer than
max_inflate is a Failure and reading goes on after it; a block never holds more than one line
that did not fit in its read (memory then peaks at that line's size).
"""

from __future__ import annotations

import io
import itertools
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from operator import attrgetter, eq, is_
from typing import IO, TYPE_CHECKING

from kubetrail.errors import Origin
from kubetrail.rules.lightevent import UNSET, LightDecodeError
from kubetrail.sources.base import Failure, Outcome, Prefiltered
from kubetrail.sources.common import escaped

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

_EVENT = "Event"
_NEWLINE = 10
_KIND, _PLT = attrgetter("kind"), attrgetter("p_log_type")
_IS_EVENT, _IS_UNSET = partial(eq, _EVENT), partial(is_, UNSET)
BLOCK_BYTES = 1 << 16  # below malloc's mmap threshold: blocks reuse memory instead of faulting
BATCH_LINES = 1024
LineHandler = Callable[[bytes | str, Origin], Iterable[Outcome]]
# A part of a JSON lines stream: a batch of lines, a block of whole lines (bytes), or the
# reason (str) one line (or the rest of the stream) could not be read.
Part = list[bytes] | bytes | str


def parts(head: list[bytes | str], lines: Iterator[bytes | str], stream: IO[bytes],
          *, bounded: bool, limit: int) -> Iterator[Part]:
    """The stream in parts: the lines already read (`head`), then, when `bounded`, the rest of
    the bounded line reader `lines` in batches, else blocks read from `stream` itself."""
    pending: list[bytes] = []
    for item in itertools.chain(head, lines) if bounded else head:
        if type(item) is bytes:
            pending.append(item)
            if len(pending) >= BATCH_LINES:
                yield pending
                pending = []
        else:
            if pending:
                yield pending
                pending = []
            yield str(item)
    if pending:
        yield pending
    if not bounded:
        yield from _blocks(stream, limit)


def _blocks(stream: IO[bytes], limit: int) -> Iterator[bytes | str]:
    size = min(BLOCK_BYTES, limit)  # so a line that ends within one read is never over-long
    read, readline = stream.read, stream.readline
    try:
        while chunk := read(size):
            if chunk[-1] != _NEWLINE:  # complete the last line, up to the limit
                start = chunk.rfind(b"\n") + 1
                chunk += readline(max(limit + 1 - (len(chunk) - start), 0))
                if chunk[-1] != _NEWLINE and len(chunk) - start > limit:
                    if start:
                        yield chunk[:start]
                    while (rest := readline(1 << 20)) and not rest.endswith(b"\n"):
                        pass
                    yield f"line longer than {limit} bytes"
                    continue
            yield chunk
    except (OSError, EOFError, zlib.error) as exc:
        yield f"unreadable from here on: {escaped(str(exc))}"


def json_lines(stream_parts: Iterable[Part], source: str, prefilter: Prefilter | None,
               handle_line: LineHandler) -> Iterator[Outcome]:
    """Outcomes of every line, in order; `handle_line` decodes one line the slow way."""
    lineno = 0
    for part in stream_parts:
        if type(part) is str:
            lineno += 1
            yield Failure(part, Origin(source, str(lineno)))
            continue
        if type(part) is bytes and prefilter is not None \
                and (events := prefilter.light.decode_block(part)) is not None:
            yield from _runs(len(events), prefilter.candidates(events), part, lineno, source,
                             handle_line)
            lineno += len(events)
            continue
        batch = io.BytesIO(part).readlines() if type(part) is bytes else part
        assert isinstance(batch, list)
        if prefilter is None:
            for i, line in enumerate(batch, lineno + 1):
                yield from handle_line(line, Origin(source, str(i)))
        else:
            yield from _bulk(batch, lineno, source, prefilter, handle_line)
        lineno += len(batch)


def _bulk(batch: Sequence[bytes], lineno: int, source: str, prefilter: Prefilter,
          handle_line: LineHandler) -> Iterator[Outcome]:
    try:
        if not all(map(bytes.isascii, batch)):
            raise ValueError("not ASCII")
        light = list(map(prefilter.light.decode_line, batch))
    except (LightDecodeError, ValueError):
        for i, line in enumerate(batch, lineno + 1):
            yield from handle_line(line, Origin(source, str(i)))
        return
    # (partial(eq/is_, x), not x.__eq__, which answers NotImplemented — truthy — for other types)
    if all(map(_IS_EVENT, map(_KIND, light))) and all(map(_IS_UNSET, map(_PLT, light))):
        candidates = prefilter.candidates(light)
    else:
        candidates = [i for i, ev in enumerate(light)
                      if ev.kind != _EVENT or ev.p_log_type is not UNSET
                      or prefilter.event_may_match(ev)]
    yield from _runs(len(batch), candidates, batch, lineno, source, handle_line)


def _runs(n: int, candidates: list[int], lines: Sequence[bytes] | bytes, lineno: int,
          source: str, handle_line: LineHandler) -> Iterator[Outcome]:
    """n records from line lineno + 1 on: the candidates decoded, runs between them Prefiltered.
    `lines` may be a block, split only when there is a candidate to decode."""
    split: Sequence[bytes] = () if not candidates else \
        io.BytesIO(lines).readlines() if isinstance(lines, bytes) else lines
    start = 0
    for i in candidates:
        if i > start:
            yield Prefiltered(Origin(source, str(lineno + start + 1)), i - start)
        yield from handle_line(split[i], Origin(source, str(lineno + i + 1)))
        start = i + 1
    if start < n:
        yield Prefiltered(Origin(source, str(lineno + start + 1)), n - start)
