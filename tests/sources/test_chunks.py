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
