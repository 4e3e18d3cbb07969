"""Fault isolation: whatever decoding one record raises becomes that record's Failure.

Every decoder entry point is wrapped by one of two decorators, so an exception can end at most
the record (or envelope) it was raised for, never the stream around it:

* `isolated` for a function `f(value, origin, ...) -> Outcome` (one record);
* `isolated_stream` for a generator `f(value, origin, ...) -> Iterator[Outcome]` (an envelope
  or a document holding several records). An exception ends that generator with one Failure
  at its `origin`; the outcomes already yielded stand. Container decoders call the isolated
  per-record functions, so one bad record inside an envelope costs only itself.

`guard_stream(outcomes, origin, raw)` is the same for an iterator made elsewhere (read_paths
wraps each file with it). Nothing is caught but `Exception` (so KeyboardInterrupt, SystemExit
and GeneratorExit pass), and ConfigError passes too: it is a settings error, not a record's.
RecursionError (deep nesting), OverflowError/ValueError (time arithmetic), MemoryError (a
bounded allocation that failed), a bug in a decoder: each is the record's Failure, with a reason
naming the exception type and its message (escaped, cut) and the record's raw bytes (cut).

tests/sources/test_guard.py checks that every public decoder of kubetrail.sources is wrapped
(`is_isolated`), so a new one cannot forget it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

from kubetrail.errors import ConfigError, Origin
from kubetrail.sources.base import Decoded, Failure, Outcome
from kubetrail.sources.common import cut, escaped
from kubetrail.sources.rawdump import dump

P = ParamSpec("P")
V = TypeVar("V")
_MARK = "__kubetrail_isolated__"


def failure_of(exc: Exception, origin: Origin, raw: Any) -> Failure:
    """The Failure of a record whose decoding raised `exc`; `raw` is its text or parsed value."""
    try:
        message = str(exc)
    except Exception:
        message = ""
    reason = f"{type(exc).__name__} while decoding" + (f": {escaped(message)}" if message else "")
    try:
        data = cut(raw) if isinstance(raw, bytes | bytearray | str) else cut(dump(raw))
    except Exception:
        data = b""
    return Failure(reason, origin, data)


def isolated(fn: Callable[Concatenate[V, Origin, P], Outcome]
             ) -> Callable[Concatenate[V, Origin, P], Outcome]:
    """Wrap a one-record decoder `fn(value, origin, ...)`: an exception is its Failure."""

    @functools.wraps(fn)
    def run(value: V, origin: Origin, /, *args: P.args, **kwargs: P.kwargs) -> Outcome:
        try:
            return fn(value, origin, *args, **kwargs)
        except ConfigError:
            raise
        except Exception as exc:
            return failure_of(exc, origin, value)

    setattr(run, _MARK, True)
    return run


def isolated_stream(fn: Callable[Concatenate[V, Origin, P], Iterator[Outcome]]
                    ) -> Callable[Concatenate[V, Origin, P], Iterator[Outcome]]:
    """Wrap a generator decoder `fn(value, origin, ...)`: an exception ends it with a Failure."""

    @functools.wraps(fn)
    def run(value: V, origin: Origin, /, *args: P.args, **kwargs: P.kwargs
            ) -> Iterator[Outcome]:
        return guard_stream(_call(fn, value, origin, *args, **kwargs), origin, value)

    setattr(run, _MARK, True)
    return run


def _call(fn: Callable[..., Iterator[Outcome]], *args: Any, **kwargs: Any) -> Iterator[Outcome]:
    # Calling fn inside the guarded generator: a plain function (not a generator) that raises
    # when called is isolated too.
    yield from fn(*args, **kwargs)


def guard_stream(outcomes: Iterator[Outcome], origin: Origin, raw: Any = b"") -> Iterator[Outcome]:
    """`outcomes`, until one raises: then one Failure at `origin` (with `raw`), and the end."""
    while True:
        try:
            outcome = next(outcomes)
        except StopIteration:
            return
        except ConfigError:
            raise
        except Exception as exc:
            yield failure_of(exc, origin, raw)
            return
        yield outcome


def mark_isolated(fn: V) -> V:
    """Mark a decoder that isolates its records itself, as the wrappers above would (for
    `is_isolated`)."""
    setattr(fn, _MARK, True)
    return fn


def is_isolated(fn: object) -> bool:
    """`fn` was wrapped by isolated or isolated_stream."""
    return bool(getattr(fn, _MARK, False))


# What a failed examination keeps of the record for the dead-letter path.
MAX_EXAMINED_RAW = 256 * 1024


def examining_failure(outcome: Decoded, exc: BaseException) -> Failure:
    """The Failure of a decoded record whose examination (rules, window arithmetic, building
    the document) raised `exc`: the exception described (bounded) and the record as delivered
    (bounded; empty when it cannot be encoded)."""
    import orjson

    from kubetrail.rules.engine import describe_error

    try:
        raw = orjson.dumps(outcome.event.raw)[:MAX_EXAMINED_RAW]
    except Exception:  # too deep or not JSON: the reason and origin remain
        raw = b""
    return Failure(f"examining the record raised {describe_error(exc)[1]}", outcome.origin, raw)
