"""One chunk of a file cut by `kubetrail scan --jobs` (kubetrail/jobs.py): read and evaluated
(in a worker, or in the scan's process when a worker could not), sent back pickled, and turned
into the pipeline's outcomes numbered from the file's first line."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubetrail.errors import ConfigError, Origin
from kubetrail.events import AuditEvent, new_event
from kubetrail.record import fields, record, replace
from kubetrail.sources.base import Decoded, Evaluated, Failure, Outcome, Prefiltered, Skip
from kubetrail.sources.chunks import open_chunk, shifted
from kubetrail.sources.files import read_chunk
from kubetrail.sources.guard import examining_failure, failure_of

if TYPE_CHECKING:
    from kubetrail.rules.engine import RuleError, RuleSet
    from kubetrail.rules.prefilter import Prefilter

# One decoded record's rules, as a worker sends them: (origin, event, matches as
# (rule position, title, dedup key, severity, alert context, overrides), rule errors).
Hit = tuple[Origin, Any, tuple[tuple[Any, ...], ...], tuple["RuleError", ...]]


@record(frozen=True, slots=True)
class Chunk:
    """What one chunk gave, origins numbered from its first line: its Failures, Skips and Hits
    (decoded records with matches or rule errors) in order, then one Prefiltered and one
    Evaluated run counting all its other records (counters only: their order does not matter);
    its line count, and whether reading stopped in it (the rest of the file is then not read,
    as sequentially)."""

    items: list[Outcome | Evaluated | Hit]
    lines: int
    stopped: bool


def run_chunk(path: Path, source: str, start: int, end: int | None, rules: RuleSet,
              prefilter: Prefilter | None, max_inflate: int) -> Chunk:
    """Read and evaluate one chunk, in a worker. What reading raises is the file's failure, as
    in the sequential reader; anything else raised here is this function's (the scan's process
    then reads the chunk itself: `read_here`)."""
    position = {id(rule): i for i, rule in enumerate(rules.rules)}
    items: list[Outcome | Evaluated | Hit] = []
    prefiltered: Prefiltered | None = None
    quiet: Origin | None = None
    quiet_count = 0
    counted = Counted()
    for outcome in _read(path, source, start, end, prefilter, max_inflate, counted):
        if type(outcome) is Decoded:
            item = _evaluate(outcome, rules, position)
            if item is None:
                quiet = quiet or outcome.origin
                quiet_count += 1
            else:
                items.append(item)
        elif type(outcome) is Prefiltered:
            prefiltered = outcome if prefiltered is None else Prefiltered(
                prefiltered.origin, prefiltered.count + outcome.count)
        else:
            items.append(outcome)
    if prefiltered is not None:
        items.append(prefiltered)
    if quiet is not None:
        items.append(Evaluated(quiet, count=quiet_count))
    return Chunk(items, counted.lines[0], counted.stopped)


def read_here(path: Path, source: str, start: int, end: int | None, prefilter: Prefilter | None,
              max_inflate: int, before: int, counted: Counted) -> Iterator[Outcome]:
    """The chunk's outcomes for the pipeline to evaluate, numbered from the file's first line
    (`before` lines come before the chunk): a chunk no worker could give."""
    for outcome in _read(path, source, start, end, prefilter, max_inflate, counted):
        yield replace(outcome, origin=shifted(outcome.origin, before))


class Counted:
    """A chunk's line count as it is read, and whether reading stopped in it."""

    def __init__(self) -> None:
        self.lines = [0]
        self.stopped = False


def _read(path: Path, source: str, start: int, end: int | None, prefilter: Prefilter | None,
          max_inflate: int, counted: Counted) -> Iterator[Outcome]:
    stream, raw = open_chunk(path, start, end)
    with stream:
        outcomes = read_chunk(stream, source, prefilter, max_inflate, counted.lines,
                              first=start == 0)
        while True:
            try:
                outcome = next(outcomes)
            except StopIteration:
                break
            except ConfigError:
                raise
            except Exception as exc:  # as guard_stream does for the whole file
                counted.stopped = True
                yield failure_of(exc, Origin(source), b"")
                return
            yield outcome
    counted.stopped = counted.stopped or raw.failed


def _evaluate(outcome: Decoded, rules: RuleSet, position: dict[int, int]
              ) -> Failure | Hit | None:
    """A decoded record's rules: its Hit, None when nothing matched and no rule raised."""
    try:
        matches, errors = rules.evaluate(outcome.event, outcome.origin)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # as Pipeline._examine: the record's failure
        return examining_failure(outcome, exc)
    if not matches and not errors:
        return None
    return (outcome.origin, outcome.event,
            tuple((position[id(m.rule)], m.title, m.dedup_key, m.severity, m.alert_context,
                   m.overrides) for m in matches), tuple(errors))


def outcomes(chunk: Chunk, lines: int, rules: RuleSet) -> Iterator[Outcome | Evaluated]:
    """The chunk's outcomes, numbered from the file's first line (`lines` lines before it)."""
    from kubetrail.rules.engine import Match

    for item in chunk.items:
        if type(item) is tuple:
            origin, event, rows, errors = item
            at = shifted(origin, lines)
            yield Evaluated(at, event, [Match(rules.rules[row[0]], event, *row[1:])
                                        for row in rows],
                            [replace(e, origin=at) for e in errors])
        else:
            assert not isinstance(item, tuple)
            yield replace(item, origin=shifted(item.origin, lines))


def dumps(chunk: Chunk) -> bytes:
    """The chunk pickled, its dataclasses as constructor calls (unpickling a slotted dataclass
    by its state costs several times as much)."""
    import pickle

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(chunk)
    return buffer.getvalue()


def _reducer(cls: type, build: Callable[..., Any]) -> Callable[[Any], tuple[Any, tuple[Any, ...]]]:
    values = attrgetter(*[f.name for f in fields(cls)])  # (every record here has 2+ fields)
    return lambda obj: (build, values(obj))


# An AuditEvent is rebuilt by events.new_event: its frozen __init__ costs the scan's
# process a third more per event it unpickles.
_REDUCERS: dict[type, Callable[[Any], Any]] = {
    AuditEvent: _reducer(AuditEvent, new_event),
    **{cls: _reducer(cls, cls) for cls in (Origin, Prefiltered, Skip, Failure, Evaluated)}}
