"""`kubetrail scan --jobs N`: large JSON-lines files read and evaluated by N worker processes,
with the same findings, in the same order, as one process.

A file that sources/chunks.py can cut (regular, uncompressed, JSON lines, at least a few chunks)
is read in chunks of whole lines. Each worker reads its chunks with the sequential reader
(files.read_chunk: the same decoders, prefilter and guards) and evaluates the rules on every
decoded record; it sends back, per chunk, only what the pipeline needs (kubetrail/chunkwork.py):
Failures, Skips, counts of the other records, and per decoded record its matches and rule
errors (sources.base.Evaluated). This process takes the chunks' results in chunk order and runs
the pipeline on them (dedup claims, publishing, the report), numbering lines from the file's
start.
Everything else (stdin, gzip, small files, documents) is read here, as with --jobs 1.

At most `2 x jobs` chunks are in flight, so memory stays bounded. A chunk whose worker died,
failed, or whose results could not be sent (e.g. too deep to pickle) is read again here, so no
record is lost and none is counted twice. Workers ignore SIGINT: the interrupted scan
terminates them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubetrail.chunkwork import Chunk, Counted, dumps, outcomes, read_here, run_chunk
from kubetrail.errors import ConfigError, Origin
from kubetrail.sources.base import Evaluated, Outcome
from kubetrail.sources.chunks import boundaries, splittable
from kubetrail.sources.common import check_max_inflate
from kubetrail.sources.files import check_path, read_paths, source_name
from kubetrail.sources.guard import failure_of

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from kubetrail.rules.engine import RuleSet
    from kubetrail.rules.prefilter import Prefilter

IN_FLIGHT_PER_JOB = 2
Setup = Callable[[], "tuple[RuleSet, Prefilter | None]"]
_READ_BY_WORKERS = [0]


def read_by_workers() -> int:
    """Bytes of the chunks workers have read for this process so far (for the progress line:
    the kernel counts them as the workers' reads)."""
    return _READ_BY_WORKERS[0]


def _serve(conn: Connection, setup: Setup | tuple[RuleSet, Prefilter | None], path: Path,
           source: str, max_inflate: int, parent_ends: list[int]) -> None:
    """A worker: chunks (start, end) in, pickled Chunk out (None: read it again yourself)."""
    import pickle
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for fd in parent_ends:  # (forked: holding them would keep a dead parent's pipes open)
        with contextlib.suppress(OSError):
            os.close(fd)
    # (a forked worker holds a copy of the parent's unflushed output: never write it again)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - until os._exit
    rules, prefilter = setup if isinstance(setup, tuple) else setup()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        start, end = task
        try:
            payload = dumps(run_chunk(path, source, start, end, rules, prefilter, max_inflate))
        except Exception:
            payload = pickle.dumps(None)
        try:
            conn.send_bytes(payload)
        except OSError:  # the scan is gone
            return


class _Workers:
    """`jobs` worker processes for one file, each with its own pipe; each task goes to a live
    one, and each answers in the order it was asked."""

    def __init__(self, jobs: int, setup: Setup | tuple[RuleSet, Prefilter | None], path: Path,
                 source: str, max_inflate: int, method: str) -> None:
        import multiprocessing  # (only when a file is cut: it costs the scan's start-up ~15 ms)

        context: Any = multiprocessing.get_context(method)
        self.conns: list[Connection | None] = []
        self.procs: list[BaseProcess] = []
        self._next = 0
        self._ready: list[deque[bytes]] = [deque() for _ in range(jobs)]
        self._owed = [0] * jobs  # tasks sent whose answers were not received yet
        for _ in range(jobs):
            ours, theirs = context.Pipe()
            parent_ends = [c.fileno() for c in (*self.conns, ours) if c is not None] \
                if method == "fork" else []
            proc = context.Process(target=_serve, daemon=True, args=(
                theirs, setup, path, source, max_inflate, parent_ends))
            proc.start()
            theirs.close()
            self.conns.append(ours)
            self.procs.append(proc)

    def submit(self, task: tuple[int, int | None]) -> int | None:
        """The worker given `task` (of the live ones, the one owing fewest answers, in turn
        among equals: a worker slowed down gets less), None when none is left."""
        n = len(self.conns)
        for _, _, w in sorted((self._owed[w], (w - self._next) % n, w)
                              for w in range(n) if self.conns[w] is not None):
            try:
                self.conns[w].send(task)  # type: ignore[union-attr]
            except (OSError, ValueError):
                self._lost(w)
                continue
            self._owed[w] += 1
            self._next = (w + 1) % n
            return w
        return None

    def result(self, w: int | None) -> Chunk | None:
        """Worker w's next answer; None when it failed or is gone. While waiting, the answers
        other workers have ready are taken too (kept as bytes), so that no worker waits for
        this process to read before it starts its next chunk."""
        import pickle
        from multiprocessing.connection import wait

        if w is None:
            return None
        while not self._ready[w] and self.conns[w] is not None:
            live = [c for c in self.conns if c is not None]
            for conn in wait(live):
                i = self.conns.index(conn)  # type: ignore[arg-type]
                try:
                    self._ready[i].append(conn.recv_bytes())  # type: ignore[union-attr]
                    self._owed[i] -= 1
                except (EOFError, OSError):
                    self._lost(i)
        if not self._ready[w]:
            return None
        try:
            answer = pickle.loads(self._ready[w].popleft())  # noqa: S301 - our own worker's
        except (pickle.UnpicklingError, EOFError, ValueError):
            return None
        return answer if isinstance(answer, Chunk) else None

    def _lost(self, w: int) -> None:
        conn, self.conns[w] = self.conns[w], None
        if conn is not None:
            conn.close()

    def close(self, *, wait: bool) -> None:
        """Let the workers end (after their current chunk when `wait`), else terminate them."""
        for w, conn in enumerate(self.conns):
            if conn is not None:
                if wait:
                    with contextlib.suppress(OSError, ValueError):
                        conn.send(None)
                self._lost(w)
        for proc in self.procs:
            if not wait:
                proc.terminate()
            proc.join()


def _read_parallel(path: Path, source: str, first_end: int, jobs: int, chunk_bytes: int,
                   rules: RuleSet, prefilter: Prefilter | None, setup: Setup, max_inflate: int,
                   method: str) -> Iterator[Outcome | Evaluated]:
    for stream in (sys.stdout, sys.stderr):  # nothing buffered for a forked worker to copy
        with contextlib.suppress(OSError, ValueError):  # (a closed pipe: the publisher's to tell)
            stream.flush()
    # What exists now (the rules, the modules) lives as long as the scan: the collector no
    # longer walks it, here nor in forked workers (whose pages it would also copy by writing).
    gc.freeze()
    done = False
    try:
        workers = _Workers(jobs, (rules, prefilter) if method == "fork" else setup, path,
                           source, max_inflate, method)
    except BaseException:
        gc.unfreeze()
        raise
    try:
        inflight: deque[tuple[tuple[int, int | None], int | None]] = deque()
        lines = 0
        with path.open("rb") as handle:
            for bounds in boundaries(handle, first_end, chunk_bytes, jobs):
                inflight.append((bounds, workers.submit(bounds)))
                while len(inflight) >= IN_FLIGHT_PER_JOB * jobs or (inflight and bounds[1] is None):
                    (start, end), w = inflight.popleft()
                    chunk = workers.result(w)
                    if chunk is None:  # read here, evaluated by the pipeline
                        counted = Counted()
                        yield from read_here(path, source, start, end, prefilter, max_inflate,
                                             lines, counted)
                        lines, stopped = lines + counted.lines[0], counted.stopped
                    else:
                        _READ_BY_WORKERS[0] += (end or handle.seek(0, os.SEEK_END)) - start
                        yield from outcomes(chunk, lines, rules)
                        lines, stopped = lines + chunk.lines, chunk.stopped
                    if stopped:
                        return
        done = True
    finally:
        gc.unfreeze()
        workers.close(wait=done)


def start_method() -> str:
    """fork where it is safe (Linux: workers inherit the loaded rules), else spawn."""
    return "fork" if sys.platform.startswith("linux") else "spawn"


def scan_paths(paths: Iterable[Path], rules: RuleSet, prefilter: Prefilter | None, *,
               max_inflate: int, jobs: int, setup: Setup, chunk_bytes: int,
               method: str | None = None) -> Generator[Outcome | Evaluated, None, None]:
    """read_paths' outcomes, the large JSON-lines files among `paths` read and evaluated by
    `jobs` workers (`setup` loads the rules in a spawned worker; forked ones inherit them)."""
    check_max_inflate(max_inflate)
    checked = [check_path(Path(p)) for p in paths]
    return _each(checked, rules, prefilter, max_inflate, jobs, setup, chunk_bytes,
                 method or start_method())


def _each(paths: list[Path], *args: Any) -> Generator[Outcome | Evaluated, None, None]:
    # (a generator, not a chain: closing it, as an interrupted scan does, ends the workers)
    for path in paths:
        yield from _one(path, *args)


def _one(path: Path, rules: RuleSet, prefilter: Prefilter | None, max_inflate: int, jobs: int,
         setup: Setup, chunk_bytes: int, method: str) -> Iterator[Outcome | Evaluated]:
    source = source_name(path)
    first_end = None if source == "<stdin>" else splittable(path, chunk_bytes, max_inflate)
    if first_end is None:
        yield from read_paths([path], prefilter, max_inflate=max_inflate)
        return
    try:
        yield from _read_parallel(path, source, first_end, jobs, chunk_bytes, rules, prefilter,
                                  setup, max_inflate, method)
    except ConfigError:
        raise
    except Exception as exc:  # as read_paths' guard: the file's failure, then the next file
        yield failure_of(exc, Origin(source), b"")
