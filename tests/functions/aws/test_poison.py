"""The Lambda handler on the moto server with the poison set of issue 9 in one CloudWatch Logs
delivery, and with deliveries that only kubetrail's bounded, multi-member inflate reads right
(a gzip bomb, a two-member gzip payload)."""

from __future__ import annotations

import base64
import gzip
import itertools
import json
from typing import Any

import pytest

from kubetrail.sources.cloudwatch import build_data_message, encode_awslogs
from tests.functions.aws.conftest import GROUP, STREAM, LambdaUnderTest
from tests.functions.poison import POISON, REASON, USERS, k8s_messages

pytestmark = pytest.mark.aws
ORDER = (*POISON, "bad_host", "good")
T0_MS = 1_795_780_800_000  # 2026-11-27T12:00:00Z


def awslogs(payload_json: bytes, members: int = 1) -> dict[str, Any]:
    """The Lambda event for this DATA_MESSAGE JSON, gzipped in `members` gzip members."""
    cut = [len(payload_json) * i // members for i in range(members + 1)]
    data = b"".join(gzip.compress(payload_json[a:b], mtime=0) for a, b in itertools.pairwise(cut))
    return {"awslogs": {"data": base64.b64encode(data).decode("ascii")}}


def poison_delivery() -> tuple[dict[str, Any], dict[str, str]]:
    """One delivery holding the poison set then the good record, and each one's log event id.
    The 1000-deep array is the log event's message itself (spliced in as JSON text: no JSON
    library writes it)."""
    texts = k8s_messages()
    messages = ["@DEEP@" if key == "deep_array" else texts[key] for key in ORDER]
    body = build_data_message(GROUP, STREAM, messages,
                              timestamps=[T0_MS + i for i in range(len(ORDER))])
    ids = {key: e["id"] for key, e in zip(ORDER, body["logEvents"], strict=True)}
    payload = json.dumps(body).replace('"@DEEP@"', texts["deep_array"])
    return awslogs(payload.encode()), ids


def test_poison_records_are_dead_lettered_and_the_good_finding_is_published(
        lambda_env: LambdaUnderTest) -> None:
    event, ids = poison_delivery()
    result = lambda_env.invoke(event)  # returns: no retry of the delivery
    findings = lambda_env.findings()
    by_user = {f["context"]["username"]: f for f in findings if f.get("kind") != "rule_error"}
    assert by_user[USERS["good"]]["rule_id"] == "Kubernetes.DaemonSet.Created"
    assert by_user[USERS["bad_host"]]["rule_id"] == "Kubernetes.DaemonSet.Created"
    assert set(by_user) == {USERS["good"], USERS["bad_host"]}
    assert sorted(result["findings"]) == sorted(f["id"] for f in findings)
    letters = {d["position"]: d for d in lambda_env.dead_letters()}
    assert set(letters) == {f"{GROUP}/{STREAM}/{ids[key]}" for key in POISON}
    for key in POISON:
        letter = letters[f"{GROUP}/{STREAM}/{ids[key]}"]
        assert REASON[key] in letter["reason"] and letter["source"].startswith("lambda:"), letter
    assert result["dead_lettered"] == len(POISON)
    assert f"records={len(ORDER)}" in result["summary"]


def test_delivery_is_inflated_within_the_configured_limit(
        lambda_env: LambdaUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBETRAIL_MAX_INFLATE", str(1024 * 1024))
    good = k8s_messages()["good"]
    body = json.dumps(build_data_message(GROUP, STREAM, [good], timestamps=[T0_MS]))
    bomb = awslogs(body.encode() + b" " * (2 * 1024 * 1024))  # valid JSON, 2 MiB of blanks
    assert len(bomb["awslogs"]["data"]) < 8 * 1024
    result = lambda_env.invoke(bomb)
    assert result["dead_lettered"] == 1 and result["findings"] == []
    (letter,) = lambda_env.dead_letters()
    assert letter["reason"] == "gzip payload inflates beyond 1048576 bytes"
    assert letter["position"] == "" and letter["source"].startswith("lambda:")
    assert lambda_env.findings() == []

    lambda_env.invoke(awslogs(body.encode()))  # the same delivery without the blanks
    assert [f["context"]["username"] for f in lambda_env.findings()] == [USERS["good"]]


def test_every_gzip_member_of_a_delivery_is_read(lambda_env: LambdaUnderTest) -> None:
    users = ["first-member@example.com", "second-member@example.com"]
    body = build_data_message(GROUP, STREAM, [
        encode_user(k8s_messages()["good"], user) for user in users],
        timestamps=[T0_MS, T0_MS + 1])
    event = awslogs(json.dumps(body).encode(), members=2)
    data = base64.b64decode(event["awslogs"]["data"])
    assert data.count(b"\x1f\x8b\x08") == 2  # two gzip members, the JSON split between them
    result = lambda_env.invoke(event)
    assert result["dead_lettered"] == 0 and "records=2" in result["summary"]
    assert sorted(f["context"]["username"] for f in lambda_env.findings()) == users


def encode_user(message: str, user: str) -> str:
    return message.replace(USERS["good"], user)


@pytest.mark.parametrize("value", ["0", "-5", "64MiB", "²"])
def test_a_bad_max_inflate_setting_is_named(lambda_env: LambdaUnderTest,
                                            monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from kubetrail.errors import ConfigError

    monkeypatch.setenv("KUBETRAIL_MAX_INFLATE", value)
    with pytest.raises(ConfigError, match="KUBETRAIL_MAX_INFLATE"):
        lambda_env.invoke(encode_awslogs(GROUP, STREAM, [k8s_messages()["good"]]))
