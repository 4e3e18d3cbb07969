"""The moto server for the test session, over real HTTP on loopback.

`moto_server` starts `scripts/aws/moto_server.py` (moto's server, requests serialized like
DynamoDB's per-item writes, see there) on a free loopback port the first time a test asks, waits
until it answers, and stops it at the end of the session. When KUBETRAIL_MOTO_URL names a moto
server that answers (e.g. after `make emulators`), that one is reused and left running; every
test makes its own uniquely named resources either way.

`aws_env` points boto3's standard chain (AWS_ENDPOINT_URL, region, dummy credentials) at the
server for one test. `moto_proxy` puts a `tests.emulators.net.LoopbackProxy` in front of it,
which a test can cut and restore: to the client it is the service going away and coming back,
while moto keeps its state."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubetrail.dedup.dynamodb import DynamoDBDedupStore
from tests.emulators.net import LoopbackProxy, ServerProcess, answers_ok, free_port

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "scripts" / "aws" / "moto_server.py"
REGION = "us-east-1"
START_TIMEOUT = 30.0


def answers(url: str, timeout: float = 1.0) -> bool:
    """moto's own API answers `GET /moto-api/` with 200."""
    return answers_ok(f"{url}/moto-api/", timeout)


@dataclass(frozen=True)
class Moto:
    """Where moto listens, plus helpers to make resources and read what arrived."""

    endpoint: str

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}

    def client(self, service: str, endpoint: str | None = None) -> Any:
        import boto3

        return boto3.session.Session().client(
            service, endpoint_url=endpoint or self.endpoint, region_name=REGION,
            aws_access_key_id="testing", aws_secret_access_key="testing")

    @staticmethod
    def unique(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    def dedup_table(self) -> str:
        """A new table shaped like the Terraform one (pk, TTL on expires_at)."""
        name, ddb = self.unique("kubetrail-dedup"), self.client("dynamodb")
        ddb.create_table(**DynamoDBDedupStore.table_definition(name))
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": DynamoDBDedupStore.TTL_ATTRIBUTE})
        return name

    def queue(self, prefix: str = "kubetrail-q") -> str:
        return str(self.client("sqs").create_queue(QueueName=self.unique(prefix))["QueueUrl"])

    def topic_with_queue(self, raw: bool = False) -> tuple[str, str]:
        """A new topic and an SQS queue subscribed to it: (topic ARN, queue URL)."""
        sns, sqs = self.client("sns"), self.client("sqs")
        topic = sns.create_topic(Name=self.unique("kubetrail-findings"))["TopicArn"]
        url = self.queue("kubetrail-subscriber")
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        sns.subscribe(TopicArn=topic, Protocol="sqs",
                      Endpoint=arn["Attributes"]["QueueArn"],
                      Attributes={"RawMessageDelivery": "true" if raw else "false"})
        return str(topic), url

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message waiting on the queue (deleted once read), with attributes."""
        sqs, messages = self.client("sqs"), []
        while True:
            got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                      MessageAttributeNames=["All"], WaitTimeSeconds=0)
            batch = got.get("Messages", [])
            if not batch:
                return messages
            messages.extend(batch)
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])

    def findings(self, queue_url: str) -> list[dict[str, Any]]:
        """The finding documents that reached a (non-raw) SNS subscription queue."""
        return [json.loads(json.loads(m["Body"])["Message"]) for m in self.drain(queue_url)]


class MotoProcess(ServerProcess):
    """`scripts/aws/moto_server.py` on a loopback port, logging to a file."""

    def __init__(self, port: int, log: Path) -> None:
        self.endpoint = f"http://127.0.0.1:{port}"
        super().__init__([sys.executable, str(SERVER), "--host", "127.0.0.1", "--port",
                          str(port)], log, f"moto on {self.endpoint}")

    start_timeout = START_TIMEOUT

    def ready(self) -> bool:
        return answers(self.endpoint)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    """The moto server for the whole session (reused when KUBETRAIL_MOTO_URL answers)."""
    url = os.environ.get("KUBETRAIL_MOTO_URL", "").rstrip("/")
    if url and answers(url):
        yield Moto(url)
        return
    proc = MotoProcess(free_port(), tmp_path_factory.mktemp("moto") / "moto.log")
    proc.wait_ready()
    try:
        yield Moto(proc.endpoint)
    finally:
        proc.stop()


@pytest.fixture
def aws_env(moto_server: Moto, monkeypatch: pytest.MonkeyPatch) -> Moto:
    """boto3's standard chain pointed at moto for this test (no profile, no real account)."""
    for var in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    return moto_server


@pytest.fixture
def moto_proxy(moto_server: Moto) -> Iterator[LoopbackProxy]:
    """A LoopbackProxy in front of the moto server, closed after the test."""
    proxy = LoopbackProxy(moto_server.endpoint)
    yield proxy
    proxy.cut()
