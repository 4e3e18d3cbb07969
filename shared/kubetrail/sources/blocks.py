"""Reading an uncompressed JSON-lines file in blocks, through one reused buffer: the hot loop of
`kubetrail scan` and of the benchmark.

The file is read into a buffer of about BLOCK_BYTES. With a prefilter, the whole lines in it are
light-decoded in place (rules/lightevent.py `decode_buffer`: one copy, one msgspec call, no
object per line that is not a candidate); when every line is a well-typed audit Event the block
leaves as a `Scanned` (its line count and the text of the few lines some rule may match).
Otherwise — no prefilter, or a blank, cut, malformed, non-ASCII or non-Event line anywhere in
the block — the block leaves as its bytes, to be read line by line (sources/jsonlines.py), so
every defect is still reported with its line number. A block is accepted only when its i-th
light event is provably its i-th line (lightevent.py: each line is wrapped with a per-process
random key), so no punctuation can shift a decision onto another line.

Lines end at b"\\n". A line of more than `limit` bytes (its newline not counted) leaves as the
str reason instead, and reading goes on after it: the buffer holds at most limit + 1 bytes of
one line, and grows to that only for as long as such a line is being read.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from kubetrail.record import record
from kubetrail.sources.common import escaped

if TYPE_CHECKING:
    from kubetrail.rules.prefilter import Prefilter

BLOCK_BYTES = 1 << 17
_OPEN = ord("[")  # buffer[0]: the array opener decode_buffer builds on
_ENVELOPES = (b'{"records":', b'{"message":')  # how Event Hub and Pub/Sub push bodies start


@record(frozen=True, slots=True)
class Scanned:
    """`lines` consecutive audit Events, of which only `candidates` (index in the block, line
    text) may match a rule; all others are proven not to."""

    lines: int
    candidates: tuple[tuple[int, bytes], ...]


def scan_blocks(stream: IO[bytes], limit: int, prefilter: Prefilter | None
                ) -> Iterator[Scanned | bytes | str]:
    """The stream's lines in blocks: Scanned, or bytes (whole lines) to read one by one, or the
    reason (str) one line is skipped or the rest of the stream could not be read."""
    capacity = min(BLOCK_BYTES, limit + 1)  # a whole line in the buffer is never over-long
    buf = bytearray(capacity + 1)
    buf[0] = _OPEN
    have = 1  # bytes of buf in use, the opener included
    try:
        while True:
            with memoryview(buf) as view:
                got = stream.readinto(view[have:])  # type: ignore[attr-defined]
            have += got
            if not got:  # end of the stream: a last line without its newline, if any
                if have > 1:  # (the newline lets the decoder see it whole; the text has none)
                    yield _block(buf[:have] + b"\n", prefilter, have)
                return
            end = buf.rfind(b"\n", 1, have) + 1
            if not end:  # no whole line yet
                if have < len(buf):
                    continue
                if len(buf) - 1 <= limit:  # one line fills the buffer: make room, up to limit
                    buf.extend(bytes(min(len(buf) - 1, limit + 2 - len(buf))))
                    continue
                _skip_line(stream)
                yield f"line longer than {limit} bytes"
                buf, have = bytearray(capacity + 1), 1
                buf[0] = _OPEN
                continue
            full = have == len(buf)
            yield _block(buf if full else buf[:have], prefilter, end)
            tail = buf[end:have]
            if len(buf) > capacity + 1 and len(tail) < capacity:  # a long line was read: shrink
                buf = bytearray(capacity + 1)
                buf[0] = _OPEN
            buf[1:1 + len(tail)] = tail
            have = 1 + len(tail)
    except (OSError, EOFError, zlib.error) as exc:
        yield f"unreadable from here on: {escaped(str(exc))}"


def _block(buffer: bytearray, prefilter: Prefilter | None, end: int) -> Scanned | bytes:
    """The block of whole lines buffer[1:end]."""
    # (a block starting with an envelope holds no audit Event line: not worth a try)
    events = None if prefilter is None or buffer.startswith(_ENVELOPES, 1) \
        else prefilter.light.decode_buffer(buffer)
    if events is None:
        with memoryview(buffer) as view:  # (one copy: a slice of the bytearray would be two)
            return bytes(view[1:end])
    assert prefilter is not None
    picked = prefilter.candidates(events)
    if not picked:
        return Scanned(len(events), ())
    return Scanned(len(events), _lines_at(buffer, picked, end))


def _lines_at(buffer: bytearray, picked: list[int], end: int) -> tuple[tuple[int, bytes], ...]:
    """(i, the text of line i) for the `picked` lines (ascending) of the block buffer[1:end]. A
    few lines of a block are picked: the lines before them are skipped, not copied."""
    find = buffer.find
    out = []
    start, line = 1, 0
    for i in picked:
        while line < i:
            start = find(b"\n", start, end) + 1
            line += 1
        stop = find(b"\n", start, end) + 1 or end  # (the last line may have no newline)
        out.append((i, bytes(buffer[start:stop])))
        start, line = stop, i + 1
    return tuple(out)


def _skip_line(stream: IO[bytes]) -> None:
    """Read past the end of the current line."""
    while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
        pass
