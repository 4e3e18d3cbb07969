"""The bench's floor (scripts/bench/floor.py) does the work it claims on every stream: each line
decodes to the very fields kubetrail reads from it, so its rate bounds a real scan's. A floor that
silently decoded defaults (a misspelt field, an envelope not unwrapped) would be fast and wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetrail.sources import read_paths
from kubetrail.sources.base import Decoded
from scripts.bench import floor
from scripts.bench.streams import KINDS, _lines


def _events(tmp_path: Path, kind: str, lines: list[bytes]) -> list[tuple[str, str, str]]:
    path = tmp_path / f"{kind}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    outcomes = list(read_paths([str(path)], None))
    assert all(isinstance(o, Decoded) for o in outcomes)
    if kind == "gke-pubsub":  # the LogEntry's own names; kubetrail maps them to verb/resource
        return [(p["methodName"], p["resourceName"], p["authenticationInfo"]["principalEmail"])
                for o in outcomes if isinstance(o, Decoded)
                for p in [o.event.raw["protoPayload"]]]
    return [(o.event.verb or "", o.event.resource or "", o.event.username or "")
            for o in outcomes if isinstance(o, Decoded)]


def _floor(kind: str, lines: list[bytes]) -> list[tuple[str, str, str]]:
    decode = floor.per_line(kind)
    out: list[tuple[str, str, str]] = []
    for line in lines:
        decoded = decode(line)
        if isinstance(decoded, floor.LogEntry):
            payload = decoded.protoPayload
            out.append((payload.methodName, payload.resourceName,
                        payload.authenticationInfo.principalEmail))
        else:
            for event in decoded if isinstance(decoded, list) else [decoded]:
                out.append((event.verb, event.objectRef.resource, event.user.username))
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_the_floor_decodes_what_kubetrail_reads(tmp_path: Path, kind: str) -> None:
    lines = list(_lines(kind, 400))
    ours = _events(tmp_path, kind, lines)
    assert len(ours) >= 400 and len(set(ours)) > 10
    assert _floor(kind, lines) == ours
