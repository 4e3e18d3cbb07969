"""The Lambda handler end to end on the moto server: CloudWatch Logs deliveries (built exactly as
CloudWatch builds them) in, findings on SNS and dead letters on SQS out; EMF metrics and
structured logs; transient outages of DynamoDB, SNS and SQS mid-run, with redelivery."""

from __future__ import annotations

import base64
import gzip
import json
import multiprocessing
import os
import subprocess
import sys
from typing import Any

import pytest

from kubetrail.errors import ConfigError, PublishError
from kubetrail.sources.cloudwatch import encode_awslogs
from tests.emulators.net import LoopbackProxy
from tests.functions.aws.conftest import GROUP, STREAM, LambdaUnderTest

pytestmark = pytest.mark.aws


def audit(user: str = "alice@example.com", ns: str = "kube-system", verb: str = "create",
          resource: str = "daemonsets", second: int = 0, audit_id: str = "") -> str:
    return json.dumps({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
        "auditID": audit_id or f"{user}-{ns}-{second}", "stage": "ResponseComplete",
        "requestURI": f"/apis/apps/v1/namespaces/{ns}/{resource}", "verb": verb,
        "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["203.0.113.7"], "userAgent": "kubectl/v1.31.0",
        "objectRef": {"resource": resource, "namespace": ns, "name": "node-agent",
                      "apiGroup": "apps", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 201},
        "requestReceivedTimestamp": f"2026-11-27T12:00:{second:02d}.000000Z",
        "stageTimestamp": f"2026-11-27T12:00:{second:02d}.100000Z",
    })


def delivery(*messages: str) -> dict[str, Any]:
    return encode_awslogs(GROUP, STREAM, list(messages))


def emf(out: str) -> dict[str, Any]:
    docs = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    assert len(docs) == 1, out
    return docs[0]


def test_batch_publishes_findings_and_dead_letters_bad_records(
        lambda_env: LambdaUnderTest, capsys: pytest.CaptureFixture[str]) -> None:
    cut = audit()[:-40]  # a truncated record that still names its verb and resource
    event = delivery(audit(), audit(verb="get"), cut, audit(user="bob@example.com"))
    result = lambda_env.invoke(event)
    findings = lambda_env.findings()
    assert sorted(f["context"]["username"] for f in findings) == [
        "alice@example.com", "bob@example.com"]
    assert sorted(result["findings"]) == sorted(f["id"] for f in findings)
    assert {f["cluster"] for f in findings} == {"prod"}
    (dead,) = lambda_env.dead_letters()
    event_id = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))[
        "logEvents"][2]["id"]
    assert dead["position"] == f"{GROUP}/{STREAM}/{event_id}"
    assert dead["raw"] == cut and dead["reason"]
    out = capsys.readouterr().out
    metrics = emf(out)
    assert {k: metrics[k] for k in ("RecordsIn", "Findings", "Deduplicated", "Skipped",
                                    "Failed")} == {"RecordsIn": [4.0], "Findings": [2.0],
                                                   "Deduplicated": [0.0], "Skipped": [0.0],
                                                   "Failed": [1.0]}
    assert metrics["service"] == "kubetrail-test"
    logs = [json.loads(line) for line in out.splitlines() if '"level"' in line]
    assert any(line.get("log_group") == GROUP and line.get("log_stream") == STREAM
               and "records=4" in line["message"] for line in logs)


def test_redelivery_and_later_matches_in_the_window_publish_nothing(
        lambda_env: LambdaUnderTest) -> None:
    lambda_env.invoke(delivery(audit(second=1)))
    assert len(lambda_env.findings()) == 1
    assert lambda_env.invoke(delivery(audit(second=1)))["findings"] == []
    lambda_env.cold_start()  # another execution environment: the window is in DynamoDB
    assert lambda_env.invoke(delivery(audit(second=30)))["findings"] == []
    assert lambda_env.findings() == []


def test_undecodable_delivery_is_one_dead_letter_and_no_error(
        lambda_env: LambdaUnderTest) -> None:
    result = lambda_env.invoke({"awslogs": {"data": base64.b64encode(b"not gzip").decode()}})
    assert result["dead_lettered"] == 1
    (dead,) = lambda_env.dead_letters()
    assert dead["source"].startswith("lambda:") and "not gzip" not in dead.get("raw", "x")
    assert lambda_env.findings() == []


def test_control_message_is_skipped(lambda_env: LambdaUnderTest) -> None:
    body = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "",
            "logStream": "", "subscriptionFilters": [], "logEvents": [
                {"id": "", "timestamp": 1, "message": "CWL CONTROL MESSAGE: Checking health"}]}
    data = base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()
    result = lambda_env.invoke({"awslogs": {"data": data}})
    assert "skipped=control-message=1" in result["summary"]
    assert lambda_env.findings() == [] and lambda_env.dead_letters() == []


@pytest.mark.parametrize("service", ["SNS", "DYNAMODB"])
def test_outage_mid_run_raises_and_redelivery_publishes_each_finding_once(
        lambda_env: LambdaUnderTest, moto_proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch,
        service: str) -> None:
    proxy = moto_proxy
    monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", proxy.endpoint)
    users = [f"user{i}@example.com" for i in range(12)]  # > 10: two PublishBatch requests
    event = delivery(*(audit(user=u) for u in users), audit(user=users[0], second=5))
    lambda_env.invoke(delivery(audit(user="warm@example.com")))  # clients built and connected
    lambda_env.findings()
    proxy.cut()
    with pytest.raises(PublishError):
        lambda_env.invoke(event)
    assert lambda_env.findings() == []
    proxy.restore()  # same execution environment, same cached clients: Lambda's retry
    assert len(lambda_env.invoke(event)["findings"]) == 12
    assert lambda_env.invoke(event)["findings"] == []  # a further retry publishes nothing
    published = lambda_env.findings()
    assert sorted(f["context"]["username"] for f in published) == sorted(users)


def test_dead_letter_queue_outage_raises_and_retry_keeps_records_and_exactly_once(
        lambda_env: LambdaUnderTest, moto_proxy: LoopbackProxy,
        monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = moto_proxy
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", proxy.endpoint)
    event = delivery(audit(), audit(user="eve")[:-10])
    proxy.cut()
    with pytest.raises(PublishError, match="sqs"):
        lambda_env.invoke(event)
    proxy.restore()
    lambda_env.invoke(event)
    assert [f["context"]["username"] for f in lambda_env.findings()] == ["alice@example.com"]
    assert [d["raw"] for d in lambda_env.dead_letters()] == [audit(user="eve")[:-10]]


def test_missing_settings_and_missing_table_are_config_errors(
        lambda_env: LambdaUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBETRAIL_DLQ_URL")
    with pytest.raises(ConfigError, match="KUBETRAIL_DLQ_URL"):
        lambda_env.invoke(delivery(audit()))
    monkeypatch.setenv("KUBETRAIL_DLQ_URL", lambda_env.dlq)
    monkeypatch.setenv("KUBETRAIL_DEDUP_TABLE", "no-such-table")
    lambda_env.cold_start()
    with pytest.raises(ConfigError, match="no-such-table"):
        lambda_env.invoke(delivery(audit()))


def _invoke_in_new_environment(event: dict[str, Any], barrier: Any, out: Any) -> None:
    from kubetrail.local.aws import LocalContext, load_handler

    handler = load_handler()
    barrier.wait()
    out.put(handler.lambda_handler(event, LocalContext())["findings"])


def test_eight_concurrent_invocations_publish_one_finding(lambda_env: LambdaUnderTest) -> None:
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(8), ctx.Queue()
    events = [delivery(audit(second=i, audit_id=f"race-{i}")) for i in range(8)]
    procs = [ctx.Process(target=_invoke_in_new_environment, args=(e, barrier, out))
             for e in events]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 8
    published = [ids for ids in (out.get(timeout=5) for _ in procs) if ids]
    assert len(published) == 1 and len(published[0]) == 1
    (finding,) = lambda_env.findings()
    assert finding["id"] == published[0][0]


@pytest.mark.parametrize(("tracing", "imported"), [("", False), ("true", True)])
def test_xray_sdk_is_imported_only_when_tracing_is_on(tracing: str, imported: bool) -> None:
    from kubetrail.local.aws import FUNCTION_DIR

    # powertools' decorators are applied once, before the first invocation's work
    probe = ("import sys, handler; assert 'aws_xray_sdk' not in sys.modules; handler.entry(); "
             "assert 'boto3' not in sys.modules; print('aws_xray_sdk' in sys.modules)")
    env = {**os.environ, "KUBETRAIL_TRACING": tracing}
    out = subprocess.run([sys.executable, "-c", probe], cwd=FUNCTION_DIR, env=env,
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == str(imported)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("KUBETRAIL_SNS_TOPIC_ARN", "kubetrail-findings", "must be a topic ARN"),
    ("KUBETRAIL_DLQ_URL", "kubetrail-dead-letter", "must be a queue URL"),
    ("KUBETRAIL_DEDUP_TABLE", " ", "missing settings: KUBETRAIL_DEDUP_TABLE"),
])
def test_bad_settings_are_named(lambda_env: LambdaUnderTest, monkeypatch: pytest.MonkeyPatch,
                                name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        lambda_env.invoke(delivery(audit()))
