"""Cutting a JSON-lines file into chunks of whole lines, and numbering a chunk's records from the
file's first line."""

from __future__ import annotations

import itertools
from pathlib import Path

from kubetrail.errors import Origin
from kubetrail.sources.chunks import boundaries, open_chunk, shifted, splittable


def test_chunks_cover_the_file_in_whole_lines(tmp_path: Path) -> None:
    lines = [b"a" * n for n in (0, 5, 300, 1, 40, 2000, 3, 0, 77)] * 5
    data = b"\n".join(lines) + b"\nlast line without newline"
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    for size in (1, 7, 100, 1000, 10**6):
        with path.open("rb") as handle:
            bounds = list(boundaries(handle, 1, size))
        assert bounds[0][0] == 0 and bounds[-1][1] is None
        assert all(end == nxt for (_, end), (nxt, _) in itertools.pairwise(bounds))
        assert all(data[start - 1:start] == b"\n" for start, _ in bounds[1:])
        pieces = []
        for start, end in bounds:
            stream, _ = open_chunk(path, start, end)
            with stream:
                pieces.append(stream.read())
        assert pieces == [data[start:end] for start, end in bounds]


def test_the_first_chunk_holds_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    first = b'{"kind":"Event","x":"' + b"a" * 800 + b'"}'
    path.write_bytes(b"\n\n" + first + b"\n{}\n" * 100)
    first_end = splittable(path, 10, 1 << 20)
    assert first_end == 2 + len(first) + 1
    with path.open("rb") as handle:
        assert next(boundaries(handle, first_end, 10)) == (0, first_end)
    assert splittable(path, len(path.read_bytes()) // 3, 1 << 20) is None  # under 4 chunks
    path.write_bytes(b'[{"kind":"Event"},\n' * 100 + b"{}]")  # one document
    assert splittable(path, 10, 1 << 20) is None


def test_positions_shift_by_the_lines_before_the_chunk() -> None:
    assert shifted(Origin("f", "3"), 10) == Origin("f", "13")
    assert shifted(Origin("f", "3/records[1]"), 10) == Origin("f", "13/records[1]")
    assert shifted(Origin("f"), 10) == Origin("f")
    assert shifted(Origin("f", "3"), 0) == Origin("f", "3")


def test_the_chunks_that_end_the_file_get_smaller_for_several_workers(tmp_path: Path) -> None:
    data = b"".join(b'{"n":%d}\n' % i for i in range(20_000))  # ~200 kB
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    chunk = 10_000
    for workers in (2, 3, 4):
        with path.open("rb") as handle:
            bounds = list(boundaries(handle, 1, chunk, workers))
        assert bounds[0][0] == 0 and bounds[-1][1] is None
        assert all(end == nxt for (_, end), (nxt, _) in itertools.pairwise(bounds))
        sizes = [(end or len(data)) - start for start, end in bounds]
        assert b"".join(data[s:e] for s, e in bounds) == data
        full = [i for i, size in enumerate(sizes) if size >= chunk]
        tail = sizes[full[-1] + 1:]
        # fewer bytes than a chunk per worker are left after the last full chunk; then the
        # chunks shrink, none under an eighth of a chunk (save a line's overshoot)
        assert len(data) - sum(sizes[:full[-1] + 1]) < workers * chunk
        assert len(tail) >= 3 and all(b <= a + 20 for a, b in itertools.pairwise(tail[:-1]))
        assert tail[-1] <= 2 * (chunk // 8) + 20 and min(tail) >= chunk // 8 - 20
    with path.open("rb") as handle:  # one worker: chunks as long as ever
        sizes = [(end or len(data)) - start for start, end in boundaries(handle, 1, chunk)]
    assert all(size >= chunk for size in sizes[:-1])
