"""Fault isolation: whatever one record raises is that record's Failure, and the records after
it are still read — in files (block and line paths, with and without the prefilter) and inside
envelopes."""

from __future__ import annotations

import gzip
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from kubetrail.errors import ConfigError, Origin
from kubetrail.sources import read_paths
from kubetrail.sources.base import Decoded, Failure, Outcome
from kubetrail.sources.common import MAX_FAILURE_RAW, describe
from kubetrail.sources.eventhub import decode_eventhub_body
from kubetrail.sources.guard import (
    MAX_EXAMINED_RAW,
    examining_failure,
    is_isolated,
    isolated_stream,
)
from kubetrail.sources.k8s import event_from_k8s
from kubetrail.sources.rawdump import dump
from tests.sources.helpers import RULES, kinds

DS_CREATE = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "stage": "ResponseComplete",
             "auditID": "ds", "verb": "create", "user": {"username": "mallory@example.com"},
             "objectRef": {"resource": "daemonsets", "namespace": "default", "name": "x",
                           "apiGroup": "apps", "apiVersion": "v1"},
             "responseStatus": {"code": 201}, "stageTimestamp": "2024-05-01T10:00:00Z"}
DS_LINE = orjson.dumps(DS_CREATE)
DECODER_MODULES = ("cloudwatch", "detect", "eventhub", "gke", "pubsub")


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def custom_resource_create(depth: int) -> bytes:
    """A CR create whose body nests `depth` levels (CRDs preserving unknown fields allow it)."""
    event = {**DS_CREATE, "auditID": "cr", "objectRef": {"resource": "widgets",
                                                         "namespace": "default", "name": "w",
                                                         "apiGroup": "example.com"}}
    text = orjson.dumps(event)
    return text[:-1] + b',"requestObject":{"spec":' + nested(depth) + b"}}"


def read(tmp_path: Path, lines: list[bytes], *, prefilter: bool, compress: bool
         ) -> list[Outcome]:
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / ("in.jsonl.gz" if compress else "in.jsonl")
    path.write_bytes(gzip.compress(data) if compress else data)
    return list(read_paths([path], RULES.prefilter if prefilter else None))


def test_every_public_decoder_is_isolated() -> None:
    found = []
    for name in DECODER_MODULES:
        module = importlib.import_module(f"kubetrail.sources.{name}")
        for attr, fn in vars(module).items():
            if attr.startswith("decode_") and inspect.isfunction(fn) and \
                    fn.__module__ == module.__name__:
                found.append(attr)
                assert is_isolated(fn), f"{name}.{attr} is not wrapped by guard.isolated*"
    assert len(found) >= 10


MODES = [pytest.param(p, c, id=f"{'prefilter' if p else 'no-prefilter'}-"
                      f"{'gzip' if c else 'plain'}") for p in (True, False) for c in (False, True)]


@pytest.mark.parametrize(("prefilter", "compress"), MODES)
def test_deep_nesting_costs_only_its_own_record(tmp_path: Path, prefilter: bool,
                                                compress: bool) -> None:
    lines = [custom_resource_create(3000), DS_LINE, custom_resource_create(990), DS_LINE]
    outcomes = read(tmp_path, lines, prefilter=prefilter, compress=compress)
    assert kinds(outcomes)[0] == "Failure"
    assert kinds(outcomes)[1] == "Decoded"
    # 990 levels is within orjson's limit: a record the full decoder reads, so it is decoded
    # (or prefiltered: no rule reads widgets), never lost to the light decoder's recursion.
    assert kinds(outcomes)[2] in ("Decoded", "Prefiltered")
    assert kinds(outcomes)[3] == "Decoded"
    assert [o.origin.position for o in outcomes] == ["1", "2", "3", "4"]


@pytest.mark.parametrize(("prefilter", "compress"), MODES)
def test_times_out_of_range_fail_their_record(tmp_path: Path, prefilter: bool,
                                              compress: bool) -> None:
    early = orjson.dumps({**DS_CREATE, "stageTimestamp": "0001-01-01T00:00:00+01:00"})
    late = orjson.dumps({**DS_CREATE, "stageTimestamp": "9999-12-31T23:59:59Z"})
    outcomes = read(tmp_path, [early, late, DS_LINE], prefilter=prefilter, compress=compress)
    assert kinds(outcomes) == ["Failure", "Failure", "Decoded"]
    assert all("out of range" in o.reason for o in outcomes[:2] if isinstance(o, Failure))


@pytest.mark.parametrize(("prefilter", "compress"), MODES)
def test_deep_values_in_unreadable_records_are_reported(tmp_path: Path, prefilter: bool,
                                                       compress: bool) -> None:
    unknown = b'{"foo":' + nested(1000) + b"}"
    kind = b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","kind":' + nested(1000) + b"}"
    element = b"[" + nested(1000) + b"]"
    outcomes = read(tmp_path, [unknown, kind, element, DS_LINE], prefilter=prefilter,
                    compress=compress)
    assert kinds(outcomes) == ["Failure"] * 3 + ["Decoded"]
    for outcome in outcomes[:3]:
        assert isinstance(outcome, Failure)
        assert len(outcome.reason) < 300 and len(outcome.raw) <= MAX_FAILURE_RAW


def test_one_poison_record_in_an_envelope_costs_only_itself() -> None:
    record = {"category": "kube-audit", "resourceId": "/X/MANAGEDCLUSTERS/AKS1",
              "properties": {"log": DS_LINE.decode()}}
    poison = {**record, "properties": {"log": orjson.dumps(
        {**DS_CREATE, "stageTimestamp": "0001-01-01T00:00:00+00:30"}).decode()}}
    body = orjson.dumps({"records": [poison, record]})
    for prefilter in (RULES.prefilter, None):
        outcomes = list(decode_eventhub_body(body, Origin("hub"), prefilter))
        assert kinds(outcomes) == ["Failure", "Decoded"]
        assert outcomes[0].origin == Origin("hub", "records[0]")


def test_the_guard_turns_any_exception_into_the_failure_of_its_record() -> None:
    @isolated_stream
    def decode(values: list[object], origin: Origin) -> Iterator[Outcome]:
        for value in values:
            if value == "boom":
                raise MemoryError("bounded allocation refused")
            yield Failure(str(value), origin)

    outcomes = list(decode(["a", "boom", "never"], Origin("x")))
    assert [o.reason for o in outcomes if isinstance(o, Failure)] == [
        "a", "MemoryError while decoding: bounded allocation refused"]
    assert outcomes[1].raw == b'["a","boom","never"]'


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, ConfigError])
def test_the_guard_lets_interrupts_and_settings_errors_through(error: type[BaseException]
                                                                ) -> None:
    @isolated_stream
    def decode(value: object, origin: Origin) -> Iterator[Outcome]:
        raise error("stop")
        yield  # pragma: no cover

    with pytest.raises(error):
        list(decode(b"", Origin("x")))


def test_dump_and_describe_are_bounded_and_never_recurse() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert len(dump(deep)) <= MAX_FAILURE_RAW
    assert dump(deep, 64) == b"[" * 64
    assert len(describe(deep)) <= 70
    assert dump({"k": deep}, 8) == b'{"k":[[['
    wide = {str(i): i for i in range(100_000)}
    assert describe(wide).endswith("…")


def test_failure_raw_of_a_small_value_is_small() -> None:
    # orjson's output keeps a 4 KiB buffer; Failure.raw must not, or a line of 100k tiny
    # unrecognized documents costs 400 MiB.
    import tracemalloc

    tracemalloc.start()
    try:
        kept = [dump({}) for _ in range(1000)]
        size, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(kept) == 1000 and size < 200_000


def _decoded(raw: dict[str, object]) -> Decoded:
    origin = Origin("audit.jsonl", "line 7")
    event = event_from_k8s(DS_CREATE, cloud="aws", cluster=None, raw=raw, origin=origin)
    return Decoded(event, origin)


def test_an_examination_that_raises_is_the_record_failure_with_its_raw_record() -> None:
    decoded = _decoded(DS_CREATE)
    failure = examining_failure(decoded, RecursionError("maximum recursion depth exceeded"))
    assert failure.origin == decoded.origin
    assert failure.reason == ("examining the record raised RecursionError: maximum recursion "
                              "depth exceeded")
    assert orjson.loads(failure.raw) == DS_CREATE


def test_an_examination_failure_keeps_a_bounded_raw_and_none_it_cannot_encode() -> None:
    big = _decoded({**DS_CREATE, "pad": "x" * (MAX_EXAMINED_RAW * 2)})
    assert len(examining_failure(big, ValueError("bad")).raw) == MAX_EXAMINED_RAW
    deep: list[object] = []
    cursor = deep
    for _ in range(400):  # beyond orjson's nesting limit
        cursor.append([])
        cursor = cursor[0]  # type: ignore[assignment]
    failure = examining_failure(_decoded({**DS_CREATE, "deep": deep}), OverflowError("x" * 10**6))
    assert failure.raw == b""
    assert failure.reason.startswith("examining the record raised OverflowError: xxx")
    assert len(failure.reason) < 2_000
