"""File reading keeps every line its own record whatever the punctuation; a leading BOM is
accepted wherever a JSON text starts; max_inflate must be a usable limit; a record too dense to
build within its memory bound is refused with a reason, and costs no more than that."""

from __future__ import annotations

import base64
import gzip
import tracemalloc
from pathlib import Path

import orjson
import pytest

from kubetrail.errors import ConfigError, Origin
from kubetrail.sources import (
    decode_aks_record,
    decode_awslogs,
    decode_cloudevent,
    decode_pubsub_message,
    read_paths,
)
from kubetrail.sources.base import Decoded, Failure, Outcome, Prefiltered
from kubetrail.sources.common import inflate
from tests.sources.helpers import RULES, kinds

DS_CREATE = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "stage": "ResponseComplete",
             "auditID": "ds", "verb": "create", "user": {"username": "mallory@example.com"},
             "objectRef": {"resource": "daemonsets", "namespace": "default", "name": "x",
                           "apiGroup": "apps", "apiVersion": "v1"},
             "responseStatus": {"code": 201}, "stageTimestamp": "2024-05-01T10:00:00Z"}
GET = orjson.dumps({**DS_CREATE, "verb": "get", "objectRef": {"resource": "pods"}})
DS_LINE = orjson.dumps(DS_CREATE)
GKE_ENTRY = {"protoPayload": {"serviceName": "k8s.io",
                              "methodName": "io.k8s.apps.v1.daemonsets.create",
                              "resourceName": "apps/v1/namespaces/default/daemonsets/x",
                              "authenticationInfo": {"principalEmail": "m@example.com"}},
             "insertId": "i", "timestamp": "2024-05-01T10:00:00Z"}


def read(path: Path, prefilter: bool = True) -> list[Outcome]:
    return list(read_paths([path], RULES.prefilter if prefilter else None))


@pytest.mark.parametrize("prefilter", [True, False])
def test_broken_first_lines_do_not_make_the_file_one_document(tmp_path: Path,
                                                              prefilter: bool) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"kind":"Event","verb":\n{"cut\n' + GET + b"\n" + DS_LINE + b"\n")
    outcomes = read(path, prefilter)
    assert [(type(o).__name__, o.origin.position) for o in outcomes] == [
        ("Failure", "1"), ("Failure", "2"),
        ("Prefiltered" if prefilter else "Decoded", "3"), ("Decoded", "4")]


def test_a_broken_pretty_printed_document_is_one_failure(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(b'{\n  "kind": "Event",\n  "verb": "create",\n  "objectRef": {}\n')
    assert kinds(read(path)) == ["Failure"]


def test_split_and_doubled_lines_keep_the_block_aligned(tmp_path: Path) -> None:
    # Line 2 opens an array line 3 closes: joined, they read as one Event; line 5 holds two
    # Events: the count of Events equals the count of lines, but line 4 must stay line 4.
    split_a = GET[:-1] + b',"x":[1'
    split_b = b"2]}"
    doubled = GET + b"," + GET
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join([GET, split_a, split_b, DS_LINE, doubled]) + b"\n")
    outcomes = read(path)
    assert [(type(o).__name__, o.origin.position) for o in outcomes] == [
        ("Prefiltered", "1"), ("Failure", "2"), ("Failure", "3"), ("Decoded", "4"),
        ("Failure", "5")]
    assert kinds(read(path, prefilter=False)) == ["Decoded", *kinds(outcomes)[1:]]


def test_a_bom_before_properties_log_is_accepted() -> None:
    record = {"category": "kube-audit", "resourceId": "/X/MANAGEDCLUSTERS/AKS1",
              "properties": {"log": "\ufeff" + DS_LINE.decode() + "\n"}}
    for prefilter in (RULES.prefilter, None):
        outcome = decode_aks_record(record, Origin("hub"), prefilter)
        assert isinstance(outcome, Decoded), outcome
        assert outcome.event.cluster == "AKS1"


def test_a_bom_before_pubsub_and_cloudevent_data_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + orjson.dumps(GKE_ENTRY)
    message = {"data": base64.b64encode(data).decode(), "messageId": "1"}
    ce = {"specversion": "1.0", "id": "1", "data": "\ufeff" + orjson.dumps(GKE_ENTRY).decode()}
    for prefilter in (RULES.prefilter, None):
        assert kinds(decode_pubsub_message(message, Origin("ps"), prefilter)) == ["Decoded"]
        assert kinds(decode_cloudevent(ce, Origin("ce"), prefilter)) == ["Decoded"]


def test_a_bom_at_the_start_of_a_file_is_accepted(tmp_path: Path) -> None:
    for compress in (False, True):
        data = b"\xef\xbb\xbf" + DS_LINE + b"\n" + DS_LINE + b"\n"
        path = tmp_path / f"bom{compress}.jsonl"
        path.write_bytes(gzip.compress(data) if compress else data)
        assert kinds(read(path)) == ["Decoded", "Decoded"]


@pytest.mark.parametrize("bad", [0, -1, -5])
def test_max_inflate_below_one_is_a_config_error(tmp_path: Path, bad: int) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(DS_LINE + b"\n")
    with pytest.raises(ConfigError, match="max_inflate"):
        read_paths([path], max_inflate=bad)
    with pytest.raises(ConfigError, match="max_inflate"):
        inflate(gzip.compress(DS_LINE), bad)
    with pytest.raises(ConfigError, match="max_inflate"):
        list(decode_awslogs({"awslogs": {"data": "e30="}}, Origin("l"), max_inflate=bad))


def _dense(size: int) -> bytes:
    return b"[" + b",".join([b"{}"] * (size // 3)) + b"]\n"


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_a_dense_line_is_refused_within_a_small_memory_bound(tmp_path: Path,
                                                             compress: bool) -> None:
    data = _dense(300 * 1024) + DS_LINE + b"\n"
    path = tmp_path / "dense.jsonl"
    path.write_bytes(gzip.compress(data) if compress else data)
    tracemalloc.start()
    try:
        outcomes = read(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kinds(outcomes) == ["Failure", "Decoded"]
    assert isinstance(outcomes[0], Failure) and "refused" in outcomes[0].reason
    assert peak < 16 * 1024 * 1024, peak  # 450 MiB before: 102400 failures of 4 KiB each


def test_a_large_legitimate_record_is_not_refused(tmp_path: Path) -> None:
    # A DaemonSet whose pod spec holds 20000 env entries (about 1 MB): dense for a record, but
    # nowhere near "[{},{},...]".
    env = [{"name": f"VAR_{i}", "value": str(i)} for i in range(20000)]
    body = {"kind": "DaemonSet", "spec": {"template": {"spec": {"containers": [
        {"name": "c", "image": "busybox", "env": env}]}}}}
    path = tmp_path / "big.jsonl"
    path.write_bytes(orjson.dumps({**DS_CREATE, "requestObject": body}) + b"\n")
    for prefilter in (True, False):
        assert kinds(read(path, prefilter)) == ["Decoded"]


def test_an_array_document_streams_its_records(tmp_path: Path) -> None:
    # Not dense (one object per 12 bytes), so decoded: each element is a record of its own,
    # streamed, and each failure keeps only its own few bytes.
    path = tmp_path / "array.jsonl"
    path.write_bytes(b"[" + b",".join([b'{"k":"vvvv"}'] * 30000) + b"]\n")
    tracemalloc.start()
    try:
        count = sum(1 for o in read_paths([path]) if isinstance(o, Failure))
        outcomes = list(read_paths([path]))
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == len(outcomes) == 30000
    assert current < 30000 * 1024, current  # 4 KiB of orjson buffer per failure before
    assert not any(isinstance(o, Prefiltered) for o in outcomes)
