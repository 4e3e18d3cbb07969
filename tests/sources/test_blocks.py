"""The block reader itself: what each block becomes, long lines, and the last line."""

from __future__ import annotations

import io

import orjson

from kubetrail.sources.blocks import BLOCK_BYTES, Scanned, scan_blocks
from tests.sources.helpers import RULES
from tests.synthetic import events

LINES = [orjson.dumps(e) + b"\n" for e in events(2000, seed=5, daemonset_every=300)]


def lines_of(parts: list[Scanned | bytes | str]) -> int:
    return sum(p.lines if isinstance(p, Scanned) else
               len(io.BytesIO(p).readlines()) if isinstance(p, bytes) else 1 for p in parts)


def test_blocks_of_audit_events_are_scanned_with_their_candidate_lines() -> None:
    data = b"".join(LINES)
    parts = list(scan_blocks(io.BytesIO(data), 1 << 26, RULES.prefilter))
    assert all(isinstance(p, Scanned) for p in parts)
    assert len(parts) >= len(data) // BLOCK_BYTES
    assert lines_of(parts) == len(LINES)  # type: ignore[arg-type]
    offsets, picked = 0, []
    for p in parts:
        assert isinstance(p, Scanned)
        picked += [(offsets + i, text) for i, text in p.candidates]
        offsets += p.lines
    wanted = [(i, line) for i, line in enumerate(LINES)
              if b'"verb":"create"' in line and b'"resource":"daemonsets"' in line]
    assert picked == wanted and wanted


def test_without_a_prefilter_blocks_are_whole_lines() -> None:
    data = b"".join(LINES)
    parts = list(scan_blocks(io.BytesIO(data), 1 << 26, None))
    assert b"".join(p for p in parts if isinstance(p, bytes)) == data


def test_the_last_line_without_its_newline_keeps_its_text() -> None:
    data = b"".join(LINES[:3]) + LINES[3].rstrip(b"\n")
    parts = list(scan_blocks(io.BytesIO(data), 1 << 26, None))
    assert b"".join(p for p in parts if isinstance(p, bytes)) == data
    scanned = list(scan_blocks(io.BytesIO(data), 1 << 26, RULES.prefilter))
    assert lines_of(scanned) == 4  # type: ignore[arg-type]


def test_a_line_longer_than_a_block_grows_the_buffer_and_then_is_read_as_usual() -> None:
    long_line = orjson.dumps({"kind": "Event", "verb": "get", "pad": "x" * (3 * BLOCK_BYTES)})
    data = b"".join(LINES[:50]) + long_line + b"\n" + b"".join(LINES[50:])
    parts = list(scan_blocks(io.BytesIO(data), 1 << 26, RULES.prefilter))
    assert lines_of(parts) == len(LINES) + 1  # type: ignore[arg-type]
    assert not any(isinstance(p, str) for p in parts)
    # past the long line, blocks are back to their usual size
    assert max(p.lines for p in parts[-5:] if isinstance(p, Scanned)) < BLOCK_BYTES // 500


def test_over_long_lines_are_skipped_with_a_reason() -> None:
    long_line = b'{"kind":"Event","pad":"' + b"x" * 5000 + b'"}\n'
    data = LINES[0] + long_line + LINES[1] + long_line.rstrip(b"\n")
    parts = list(scan_blocks(io.BytesIO(data), 2000, RULES.prefilter))
    assert [p for p in parts if isinstance(p, str)] == ["line longer than 2000 bytes"] * 2
    assert lines_of(parts) == 4  # type: ignore[arg-type]


def test_candidate_lines_keep_their_exact_text_wherever_they_are() -> None:
    quiet = [line for line in LINES if b'"daemonsets"' not in line][:40]
    create = next(line for line in LINES if b'"daemonsets"' in line and b'"create"' in line)
    lines = list(quiet)
    for at in (0, 1, 2, 17, 39):
        lines[at] = create
    lines[5] = lines[5].replace(b"\n", b"\r\n")
    lines[17] = create.replace(b"\n", b"\r\n")
    lines.append(create.rstrip(b"\n"))  # the last line, without its newline
    parts = list(scan_blocks(io.BytesIO(b"".join(lines)), 1 << 26, RULES.prefilter))
    offsets, picked = 0, []
    for p in parts:
        assert isinstance(p, Scanned)
        picked += [(offsets + i, text) for i, text in p.candidates]
        offsets += p.lines
    assert picked == [(i, lines[i]) for i in (0, 1, 2, 17, 39, 40)]
