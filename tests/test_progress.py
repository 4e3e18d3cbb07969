"""Progress on stderr: only on a terminal, redrawn in place, erased before the summary."""

from __future__ import annotations

import io
import os
import pty

from kubetrail.progress import Progress, bytes_read, maybe_progress


class Ticking:
    """A clock that advances a fixed step per reading (time is an input here, not the subject)."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_no_progress_when_stderr_is_not_a_terminal() -> None:
    assert maybe_progress(io.StringIO(), lambda: 0) is None


def test_progress_on_a_real_terminal() -> None:
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as tty:
            assert isinstance(maybe_progress(tty, lambda: 0), Progress)
    finally:
        os.close(leader)
        os.close(follower)


def test_counts_rates_and_erases() -> None:
    out = io.StringIO()
    progress = Progress(out, findings=lambda: 3, interval=1.0, clock=Ticking(0.25))
    items = list(progress.track(range(10), weight=lambda i: 2))
    assert items == list(range(10))
    text = out.getvalue()
    frames = [f for f in text.split("\r\x1b[2K") if f]
    # One redraw per second of (ticking) time: after 4, 7 and 10 items, at 6.4 records/s.
    assert [f.split(", ")[:2] for f in frames] == [
        ["kubetrail: 8 records", "6/s"], ["kubetrail: 14 records", "6/s"],
        ["kubetrail: 20 records", "6/s"]]
    assert all(f.endswith(", 3 findings") for f in frames)
    assert text.endswith("\r\x1b[2K")  # erased before the summary line
    assert progress.count == 20


def test_bytes_read_grows_when_the_process_reads(tmp_path: object) -> None:
    before = bytes_read()
    if before is None:  # not Linux: the figure is simply left out
        return
    data = os.urandom(1 << 20)
    path = os.path.join(str(tmp_path), "blob")
    with open(path, "wb") as fh:
        fh.write(data)
    with open(path, "rb") as fh:
        assert fh.read() == data
    after = bytes_read()
    assert after is not None and after - before >= len(data)


def test_bytes_read_by_other_processes_count_too() -> None:
    if bytes_read() is None:
        return
    out = io.StringIO()
    alone = Progress(out, findings=lambda: 0).line()
    helped = Progress(out, findings=lambda: 0, more_bytes=lambda: 3 << 30).line()
    assert "GiB read" not in alone and "3.0 GiB read" in helped
