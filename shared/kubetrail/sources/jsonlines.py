"""JSON lines, the bulk of any EKS export: outcomes of every line, prefiltered in bulk.

An uncompressed file is read in blocks (sources/blocks.py): a block whose lines are all audit
Events arrives `Scanned` — it leaves as `Prefiltered(count=n)` runs around its few candidate
lines, which are decoded one by one (files.json_line). Everything else arrives as lines: the
lines a file's format detection already read, a gzip stream or stdin (read line by line with a
bounded readline, so a decompression bomb never becomes one huge line in memory), and blocks
the block decoder refused.

Lines are handled in batches: each line light-decoded leniently (`kind` and `p_log_type` as
they are); lines that are audit Events no rule can match are prefiltered, the others decoded
one by one. Which lines are audit Events is decided as detect.decode_line decides it: `kind` is
"Event" and there is no `p_log_type` (a duplicated key counts with its last value, as for the
full decoder). A line that is not ASCII or that the light decoder rejects (cut, malformed,
blank, a wrong type in a field rules read) is decoded by itself, so every defect is reported
with its line number and costs only its own line.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import repeat
from operator import attrgetter, eq, is_
from typing import IO, TYPE_CHECKING

from kubetrail.errors import Origin
from kubetrail.rules.lightevent import UNSET
from kubetrail.sources.base import Failure, Outcome, Prefiltered
from kubetrail.sources.blocks import Scanned, scan_blocks
from kubetrail.sources.eventhub_fast import BODY_PREFIX
from kubetrail.sources.pubsub_batch import CANDIDATE, PREFILTERED, push_verdicts
from kubetrail.sources.pubsub_fast import PUSH_PREFIX

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

_EVENT = "Event"
_KIND, _PLT = attrgetter("kind"), attrgetter("p_log_type")
_IS_EVENT, _IS_UNSET = partial(eq, _EVENT), partial(is_, UNSET)
BATCH_LINES = 1024
_ENVELOPES = (BODY_PREFIX, PUSH_PREFIX)
LineHandler = Callable[[bytes | str, Origin], Iterable[Outcome]]
# A part of a JSON lines stream: a batch of lines, a Scanned block, a block of whole lines to
# read one by one (bytes), or the reason (str) one line (or the rest) could not be read.
Part = list[bytes] | Scanned | bytes | str


def parts(head: list[bytes | str], lines: Iterator[bytes | str], stream: IO[bytes],
          prefilter: Prefilter | None, *, bounded: bool, limit: int) -> Iterator[Part]:
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
        yield from scan_blocks(stream, limit, prefilter)


def json_lines(stream_parts: Iterable[Part], source: str, prefilter: Prefilter | None,
               handle_line: LineHandler, handle_event: LineHandler | None = None
               ) -> Iterator[Outcome]:
    """Outcomes of every line, in order; `handle_line` decodes one line the slow way, and
    `handle_event` (default: handle_line) a candidate line proven to be one audit Event (kind
    Event, no p_log_type), which the prefilter need not look at again."""
    handle_event = handle_event or handle_line
    lineno = 0
    for part in stream_parts:
        if type(part) is Scanned:
            yield from _runs(part.lines, part.candidates, lineno, source, handle_event)
            lineno += part.lines
            continue
        if type(part) is str:
            lineno += 1
            yield Failure(part, Origin(source, str(lineno)))
            continue
        batch = io.BytesIO(part).readlines() if type(part) is bytes else part
        assert isinstance(batch, list)
        if prefilter is None:
            for i, line in enumerate(batch, lineno + 1):
                yield from handle_line(line, Origin(source, str(i)))
        else:
            yield from _bulk(batch, lineno, source, prefilter, handle_line, handle_event)
        lineno += len(batch)


def _bulk(batch: Sequence[bytes], lineno: int, source: str, prefilter: Prefilter,
          handle_line: LineHandler, handle_event: LineHandler) -> Iterator[Outcome]:
    if all(map(bytes.startswith, batch, repeat(PUSH_PREFIX))):
        # Pub/Sub push bodies: judged by the light decode of their LogEntries, a batch at a time
        # (pubsub_batch.py); the entries no rule can match leave in runs, as audit Event lines
        # do, and an entry read whole that some rule may match is decoded without the prefilter
        verdicts = push_verdicts(batch, prefilter)
        picked = [(i, batch[i]) for i, v in enumerate(verdicts) if v != PREFILTERED]
        yield from _runs(len(batch), picked, lineno, source, handle_line,
                         [handle_event if verdicts[i] == CANDIDATE else handle_line
                          for i, _ in picked])
        return
    if all(map(bytes.startswith, batch, repeat(_ENVELOPES))):
        # Event Hub or Pub/Sub push bodies: no line is an audit Event, each has its own fast
        # path (eventhub_fast.py, pubsub_fast.py)
        yield from _runs(len(batch), list(enumerate(batch)), lineno, source, handle_line)
        return
    try:
        if not all(map(bytes.isascii, batch)):
            raise ValueError("not ASCII")
        light = list(map(prefilter.light.decode_line, batch))
    except Exception:  # a decode error, non-ASCII, RecursionError on deep nesting
        # Some line is not ASCII or not light-decodable: judge each line alone, so only those
        # lines (and the candidates) go the slow way.
        candidates = [i for i, line in enumerate(batch)
                      if not line.isascii() or prefilter.may_match_event(line)]
    else:
        # (partial(eq/is_, x), not x.__eq__, which answers NotImplemented — truthy — for other
        # types)
        if all(map(_IS_EVENT, map(_KIND, light))) and all(map(_IS_UNSET, map(_PLT, light))):
            picked = [(i, batch[i]) for i in prefilter.candidates(light)]
            yield from _runs(len(batch), picked, lineno, source, handle_event)
            return
        else:
            candidates = [i for i, ev in enumerate(light) if prefilter.event_may_match(ev)]
    yield from _runs(len(batch), [(i, batch[i]) for i in candidates], lineno, source,
                     handle_line)


def _runs(n: int, candidates: Sequence[tuple[int, bytes]], lineno: int, source: str,
          handle_line: LineHandler, handlers: Sequence[LineHandler] | None = None
          ) -> Iterator[Outcome]:
    """n records from line lineno + 1 on: the candidates (index, text) decoded (by handle_line,
    or by the same-placed one of `handlers`), the runs between them Prefiltered."""
    start = 0
    for k, (i, line) in enumerate(candidates):
        if i > start:
            yield Prefiltered(Origin(source, str(lineno + start + 1)), i - start)
        handle = handle_line if handlers is None else handlers[k]
        yield from handle(line, Origin(source, str(lineno + i + 1)))
        start = i + 1
    if start < n:
        yield Prefiltered(Origin(source, str(lineno + start + 1)), n - start)
