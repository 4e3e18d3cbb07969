"""Bad input: each kind is one Failure with a specific reason and the raw bytes (cut), and the
record after it still decodes — in a file, in a CloudWatch batch and in an Event Hub body."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from kubetrail.deadletter.base import dead_letter_document
from kubetrail.sources import decode_awslogs, decode_eventhub_body, read_paths
from kubetrail.sources.base import Failure
from kubetrail.sources.common import MAX_FAILURE_RAW
from tests.sources.helpers import (
    EKS_GROUP,
    EKS_STREAM,
    ORIGIN,
    corpus_doc,
    eks_messages,
    events,
    kinds,
    pubsub_push,
)

GOOD = eks_messages(1)[0].encode()
EVENT: dict[str, Any] = orjson.loads(GOOD)


def with_(**patch: Any) -> bytes:
    return orjson.dumps({**EVENT, **patch})


def nested(depth: int) -> bytes:
    return b'{"kind":"Event","requestObject":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


def b64(data: bytes) -> bytes:
    return orjson.dumps({"awslogs": {"data": base64.b64encode(data).decode()}})


BAD_LINES: list[tuple[str, bytes, str]] = [
    ("broken JSON", GOOD[:-30], "invalid JSON: unexpected end of data"),
    ("verb as a number", with_(verb=5), "verb: expected a string, got number"),
    ("objectRef as a list", with_(objectRef=["pods"]), "objectRef: expected an object, got array"),
    ("user null", with_(user=None), "user: null (an audit Event always names its user)"),
    ("code as a string", with_(responseStatus={"code": "200"}),
     "responseStatus.code: expected an integer, got string"),
    ("sourceIPs a string", with_(sourceIPs="10.0.0.1"),
     "sourceIPs: expected a list of strings, got string"),
    ("sourceIPs with a number", with_(sourceIPs=["10.0.0.1", 7]),
     "sourceIPs: expected a list of strings, found a number"),
    ("invalid UTF-8", GOOD.replace(b"system:anonymous", b"system:\xff\xfe"),
     "invalid JSON: str is not valid UTF-8"),
    ("lone surrogate escape", GOOD.replace(b"system:anonymous", b"\\ud800"),
     "invalid JSON: "),
    ("nesting beyond 1024", nested(1100), "invalid JSON: depth limit exceeded"),
    ("broken base64", orjson.dumps({"awslogs": {"data": "H4sI*not*base64"}}),
     "awslogs.data is not valid base64"),
    ("broken gzip", b64(b"\x1f\x8b\x08\x00" + b"\x00" * 40), "invalid gzip data"),
    ("truncated gzip", b64(gzip.compress(GOOD * 50)[:60]),
     "invalid gzip data: stream is truncated"),
    ("gzip bomb", b64(gzip.compress(b" " * (3 << 20))),
     "gzip payload inflates beyond 1048576 bytes"),
    ("Pub/Sub data not base64", orjson.dumps(pubsub_push(GOOD) | {"message": {"data": "%%"}}),
     "message.data is not valid base64"),
]


@pytest.mark.parametrize(("name", "line", "reason"), BAD_LINES, ids=[b[0] for b in BAD_LINES])
def test_bad_line_fails_and_the_next_line_decodes(tmp_path: Path, name: str, line: bytes,
                                                  reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(GOOD + b"\n" + line + b"\n" + GOOD + b"\n")
    outcomes = list(read_paths([path], max_inflate=1 << 20))
    assert kinds(outcomes) == ["Decoded", "Failure", "Decoded"], name
    bad = outcomes[1]
    assert isinstance(bad, Failure)
    assert bad.reason.startswith(reason), bad.reason
    assert bad.raw and bad.raw == line[:MAX_FAILURE_RAW]
    assert str(bad.origin) == f"{path}:2"
    dead_letter_document(bad)  # the dead-letter path takes it as it is


def test_megabyte_fields_decode_fine(tmp_path: Path) -> None:
    big = "x" * (3 << 20)
    path = tmp_path / "big.jsonl"
    path.write_bytes(with_(requestObject={"data": big}, userAgent=big) + b"\n" + GOOD + b"\n")
    first, second = events(read_paths([path]))
    assert first.request_object == {"data": big} and first.user_agent == big
    assert second.username == "system:anonymous"


def test_huge_failed_record_keeps_a_cut_raw(tmp_path: Path) -> None:
    line = with_(verb=1, userAgent="y" * (3 << 20))
    path = tmp_path / "huge.jsonl"
    path.write_bytes(line + b"\n")
    (outcome,) = read_paths([path])
    assert isinstance(outcome, Failure) and outcome.raw == line[:MAX_FAILURE_RAW]
    assert dead_letter_document(outcome)["raw_truncated"] is True


def test_bad_messages_in_a_cloudwatch_batch() -> None:
    from kubetrail.sources.cloudwatch import encode_awslogs

    bad = [line.decode() for name, line, _ in BAD_LINES if "UTF-8" not in name][:9]
    messages = [GOOD.decode(), *bad, GOOD.decode()]
    outcomes = list(decode_awslogs(encode_awslogs(EKS_GROUP, EKS_STREAM, messages), ORIGIN))
    assert kinds(outcomes) == ["Decoded", *["Failure"] * 9, "Decoded"]


def test_bad_records_in_an_eventhub_body() -> None:
    record = corpus_doc("aks/sumologic-docs_kube-audit-admin_record.json")

    def log(text: bytes) -> dict[str, Any]:
        return {**record, "properties": {"log": text.decode("utf-8", "replace") + "\n"}}

    records = [record, log(nested(2000)), log(with_(user=None)), log(GOOD[:50]),
               {**record, "properties": []}, record]
    outcomes = list(decode_eventhub_body({"records": records}, ORIGIN))
    assert kinds(outcomes) == ["Decoded", "Failure", "Failure", "Failure", "Failure", "Decoded"]
    reasons = [o.reason for o in outcomes if isinstance(o, Failure)]
    assert reasons[0].startswith("invalid properties.log JSON: depth limit exceeded")
    assert reasons[1] == "user: null (an audit Event always names its user)"
    assert reasons[3] == "properties: expected an object, got array"


def test_the_prefilter_keeps_the_fate_of_damaged_records(tmp_path: Path) -> None:
    from kubetrail.sources import decode_pubsub_message
    from kubetrail.sources.cloudwatch import encode_awslogs
    from tests.sources.helpers import RULES

    cut_text = GOOD[:-30]
    assert not RULES.prefilter.may_match(cut_text)  # type: ignore[union-attr]
    cw = encode_awslogs(EKS_GROUP, EKS_STREAM, [cut_text.decode(), GOOD.decode()])
    assert kinds(decode_awslogs(cw, ORIGIN, RULES.prefilter)) == ["Failure", "Prefiltered"]
    record = corpus_doc("aks/sumologic-docs_kube-audit-admin_record.json")
    broken = {**record, "properties": {"log": cut_text.decode() + "\n"}}
    assert kinds(decode_eventhub_body({"records": [broken]}, ORIGIN, RULES.prefilter)) == [
        "Failure"]
    assert kinds(decode_pubsub_message(pubsub_push(cut_text), ORIGIN, RULES.prefilter)) == [
        "Failure"]
    path = tmp_path / "cut.jsonl"
    path.write_bytes(GOOD + b"\n" + cut_text + b"\n" + GOOD.replace(b"anonymous", b"\xff") + b"\n")
    assert kinds(read_paths([path], RULES.prefilter)) == ["Prefiltered", "Failure", "Failure"]


def test_mangled_text_that_still_ends_like_an_object_is_reported(tmp_path: Path) -> None:
    """Damage in the middle of a record (a lost comma, a control byte in a string) keeps its
    closing brace: the prefilter still checks the JSON is well formed before dropping it."""
    from kubetrail.sources import decode_pubsub_message
    from tests.sources.helpers import RULES

    entry = orjson.dumps(corpus_doc("gke/otel-contrib_gke-k8s-activity-logentry.json"))
    assert entry.endswith(b"}") and not RULES.prefilter.may_match(entry)  # type: ignore[union-attr]
    mangled = [entry.replace(b'",', b'"', 1), entry.replace(b"io.k8s", b"io\rk8s", 1)]
    for text in mangled:
        assert kinds(decode_pubsub_message(pubsub_push(text), ORIGIN, RULES.prefilter)) == [
            "Failure"]
    path = tmp_path / "mangled.jsonl"
    path.write_bytes(b"\n".join([entry, *mangled, entry]) + b"\n")
    assert kinds(read_paths([path], RULES.prefilter)) == [
        "Prefiltered", "Failure", "Failure", "Prefiltered"]
