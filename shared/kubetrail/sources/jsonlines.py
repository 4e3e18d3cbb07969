"""JSON lines, the bulk of any EKS export: read in batches and prefiltered in bulk.

This is the benchmark's hot loop. A batch of lines (about 1 MiB) is light-decoded in one C-level
`map` (rules/prefilter.py: only the fields rules can require, typed), and every line that is an
audit Event no rule can match joins a run that leaves as one `Prefiltered(count=n)`; only the
other lines are handled one by one (`files.json_line`). A batch that is not all ASCII, or holds
a line the light decoder rejects (cut, malformed, blank, a wrong type in a field rules read), is
handled line by line, so every defect is still reported with its line number.

Which lines are audit Events is decided as detect.decode_line decides it: `kind` is "Event" and
there is no `p_log_type` (a duplicated key counts with its last value, as for the full decoder).

Reading: an uncompressed file is read with `readlines` (memchr in C); a gzip stream or stdin
line by line with a bounded readline, so a decompression bomb never becomes one huge line in
memory. An uncompressed line longer than max_inflate is a Failure (it was read, as the file holds
it; memory then peaks at that line's size).
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from operator import attrgetter, eq, is_
from typing import IO, TYPE_CHECKING

from kubetrail.errors import Origin
from kubetrail.rules.prefilter import UNSET, LightDecodeError, decode_light_event
from kubetrail.sources.base import Failure, Outcome, Prefiltered
from kubetrail.sources.common import escaped

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

_EVENT = "Event"
_KIND, _PLT = attrgetter("kind"), attrgetter("p_log_type")
_IS_EVENT, _IS_UNSET = partial(eq, _EVENT), partial(is_, UNSET)
BATCH_BYTES = 1 << 20
BATCH_LINES = 1024
LineHandler = Callable[[bytes | str, Origin], Iterable[Outcome]]


def batches(head: list[bytes | str], lines: Iterator[bytes | str], stream: IO[bytes],
            *, bounded: bool, limit: int) -> Iterator[list[bytes] | str]:
    """Lists of line bytes; a str instead of a list is the reason one line (or the rest of the
    stream) could not be read. `lines` is the bounded line reader already started on `stream`."""
    pending: list[bytes] = []
    source = itertools.chain(head, lines) if bounded else iter(head)
    for item in source:
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
    if bounded:
        return
    try:
        while batch := stream.readlines(BATCH_BYTES):
            if max(map(len, batch)) <= limit:
                yield batch
                continue
            for line in batch:  # rare: split around the over-long lines
                yield f"line longer than {limit} bytes" if len(line) > limit else [line]
    except (OSError, EOFError, zlib.error) as exc:
        yield f"unreadable from here on: {escaped(str(exc))}"


def json_lines(parts: Iterable[list[bytes] | str], source: str, prefilter: Prefilter | None,
               handle_line: LineHandler) -> Iterator[Outcome]:
    """Outcomes of every line, in order; `handle_line` decodes one line the slow way."""
    lineno = 0
    for part in parts:
        if type(part) is str:
            lineno += 1
            yield Failure(part, Origin(source, str(lineno)))
            continue
        assert isinstance(part, list)
        if prefilter is None:
            for i, line in enumerate(part, lineno + 1):
                yield from handle_line(line, Origin(source, str(i)))
        else:
            yield from _bulk(part, lineno, source, prefilter, handle_line)
        lineno += len(part)


def _bulk(batch: list[bytes], lineno: int, source: str, prefilter: Prefilter,
          handle_line: LineHandler) -> Iterator[Outcome]:
    try:
        if not all(map(bytes.isascii, batch)):
            raise ValueError("not ASCII")
        light = list(map(decode_light_event, batch))
    except (LightDecodeError, ValueError):
        for i, line in enumerate(batch, lineno + 1):
            yield from handle_line(line, Origin(source, str(i)))
        return
    # C-level passes over the batch: which lines are audit Events (kind "Event", no
    # p_log_type) that some rule may match; only those few are looked at in Python.
    # (partial(eq/is_, x), not x.__eq__, which answers NotImplemented — truthy — for other types)
    if all(map(_IS_EVENT, map(_KIND, light))) and all(map(_IS_UNSET, map(_PLT, light))):
        candidates = prefilter.candidates(light)
    else:
        candidates = [i for i, ev in enumerate(light)
                      if ev.kind != _EVENT or ev.p_log_type is not UNSET
                      or prefilter.event_may_match(ev)]
    start = 0
    for i in candidates:
        if i > start:
            yield Prefiltered(Origin(source, str(lineno + start + 1)), i - start)
        yield from handle_line(batch[i], Origin(source, str(lineno + i + 1)))
        start = i + 1
    if start < len(batch):
        yield Prefiltered(Origin(source, str(lineno + start + 1)), len(batch) - start)
