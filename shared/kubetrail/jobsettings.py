"""How many processes `kubetrail scan` uses and how much of a file each reads at a time (cheap to
import: the scan's start-up pays for kubetrail/jobs.py only when some file is large enough)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from kubetrail.errors import ConfigError

MAX_DEFAULT_JOBS = 8
CHUNK_BYTES = 8 << 20
MIN_CHUNKS = 4  # a file under MIN_CHUNKS chunks is not worth the workers' start-up


def default_jobs() -> int:
    """The CPUs this process may run on (its affinity where the OS tells), at most 8."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_JOBS))


def jobs(option: int | None) -> int:
    """--jobs, else $KUBETRAIL_JOBS, else default_jobs()."""
    if option is not None:
        return option
    return _positive("KUBETRAIL_JOBS") or default_jobs()


def chunk_bytes() -> int:
    """$KUBETRAIL_CHUNK_BYTES (tests force small chunks), else CHUNK_BYTES."""
    return _positive("KUBETRAIL_CHUNK_BYTES") or CHUNK_BYTES


def any_chunk(paths: Iterable[Path], chunk: int) -> bool:
    """Some path (not stdin) is a file of at least MIN_CHUNKS chunks of `chunk` bytes: worth
    asking whether to cut it (sources/chunks.splittable makes the same test first)."""
    for path in paths:
        try:
            if str(path) != "-" and path.stat().st_size >= MIN_CHUNKS * chunk:
                return True
        except OSError:  # the reader reports it as ever
            continue
    return False


def _positive(name: str) -> int | None:
    """The positive integer in $name (cliargs.positive_int's rules), None when it is unset."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    from argparse import ArgumentTypeError

    from kubetrail.cliargs import positive_int

    try:
        return positive_int(text)
    except ArgumentTypeError as exc:
        raise ConfigError(f"{name}: {exc}") from None
