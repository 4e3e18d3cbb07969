"""One chunk of a file cut by `kubetrail scan --jobs` (kubetrail/jobs.py): read and evaluated
(in a worker, or in the scan's process when a worker could not), sent back pickled, and turned
into the pipeline's outcomes numbered from the file's first line.

A matched record's event travels pickled on its own, next to the few fields a dedup claim reads
(its time and the fields a rule counts distinct values of): the scan's process unpickles it only
when a finding is built from it (`PendingEvent`). Most matches are deduplicated, and unpickling
every event was the larger part of what that process did for a worker's chunk."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubetrail.errors import ConfigError, Origin
from kubetrail.events import AuditEvent
from kubetrail.record import fields, record, replace
from kubetrail.sources.base import Decoded, Evaluated, Failure, Outcome, Prefiltered, Skip
from kubetrail.sources.chunks import open_chunk, shifted
from kubetrail.sources.files import read_chunk
from kubetrail.sources.guard import examining_failure, failure_of

if TYPE_CHECKING:
    from kubetrail.rules.engine import RuleError, RuleSet
    from kubetrail.rules.prefilter import Prefilter

# One decoded record's rules, as a worker sends them: (origin, the event pickled, the values of
# its `claimed` fields, matches as (rule position, title, dedup key, severity, alert context,
# overrides), rule errors).
Hit = tuple[Origin, bytes, tuple[Any, ...], tuple[tuple[Any, ...], ...], tuple["RuleError", ...]]


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
    claimed = attrgetter(*claimed_fields(rules))
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
            elif isinstance(item, Failure):
                items.append(item)
            else:  # (an event that cannot be pickled fails the chunk, as before)
                origin, event, rows, errors = item
                items.append((origin, _dumped(event), claimed(event), rows, errors))
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
              ) -> Failure | tuple[Origin, AuditEvent, Any, Any] | None:
    """A decoded record's rules: (origin, event, matches, errors) as in a Hit, None when nothing
    matched and no rule raised."""
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

    names = claimed_fields(rules)
    for item in chunk.items:
        if type(item) is tuple:
            origin, pickled, values, rows, errors = item
            event = PendingEvent.of(pickled, names, values)
            at = shifted(origin, lines)
            yield Evaluated(at, event, [Match(rules.rules[row[0]], event, *row[1:])
                                        for row in rows],
                            [replace(e, origin=at) for e in errors])
        else:
            assert not isinstance(item, tuple)
            yield replace(item, origin=shifted(item.origin, lines))


def claimed_fields(rules: RuleSet) -> tuple[str, ...]:
    """The event fields a dedup claim reads: the time, and every field some rule counts the
    distinct values of (rules/loader.py distinct_value)."""
    names = {f.name for f in fields(AuditEvent)}
    return ("time", *sorted({part for rule in rules.rules if rule.distinct
                             for part in rule.distinct.split("+")} & names - {"time"}))


class PendingEvent(AuditEvent):
    """A worker's matched event in the scan's process: the `claimed_fields` are set, the others
    are read from the pickled event on first use (then it is an AuditEvent like any other)."""

    __slots__ = ("_pickled",)

    @classmethod
    def of(cls, pickled: bytes, names: tuple[str, ...], values: Any) -> PendingEvent:
        """The event pickled as `pickled` (by the worker: `_dumped`), `names` set to `values`
        (attrgetter's: one value for one name, else a tuple)."""
        event = object.__new__(cls)
        for name, value in zip(names, (values,) if len(names) == 1 else values, strict=True):
            object.__setattr__(event, name, value)
        object.__setattr__(event, "_pickled", pickled)
        return event

    def __getattr__(self, name: str) -> Any:  # (only for a field not set yet)
        import pickle

        pickled = object.__getattribute__(self, "_pickled")
        if pickled is None:
            raise AttributeError(name)
        event = pickle.loads(pickled)  # noqa: S301 - our own worker's
        for f in fields(AuditEvent):
            object.__setattr__(self, f.name, getattr(event, f.name))
        object.__setattr__(self, "_pickled", None)
        return object.__getattribute__(self, name)


def _dumped(obj: Any) -> bytes:
    """`obj` pickled as `dumps` pickles it."""
    import pickle

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(obj)
    return buffer.getvalue()


def dumps(chunk: Chunk) -> bytes:
    """The chunk pickled, its dataclasses as constructor calls (unpickling a slotted dataclass
    by its state costs several times as much)."""
    return _dumped(chunk)


def _reducer(cls: type) -> Callable[[Any], tuple[type, tuple[Any, ...]]]:
    names = [f.name for f in fields(cls)]
    return lambda obj: (cls, tuple(getattr(obj, name) for name in names))


_REDUCERS: dict[type, Callable[[Any], Any]] = {
    cls: _reducer(cls) for cls in (Origin, AuditEvent, Prefiltered, Skip, Failure, Evaluated)}
