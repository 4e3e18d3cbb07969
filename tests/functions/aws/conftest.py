"""The AWS function under test: the real handler module, freshly imported per test (a new Lambda
execution environment), with its settings pointing at resources made on the moto server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubetrail.local.aws import LocalContext, load_handler
from tests.emulators.moto import Moto
from tests.factories import seed_only_config

GROUP = "/aws/eks/prod/cluster"
STREAM = "kube-apiserver-audit-0b1c2d3e4f"


@dataclass
class LambdaUnderTest:
    moto: Moto
    table: str
    topic: str
    subscriber: str
    dlq: str
    handler: Any = None

    def cold_start(self) -> Any:
        """Import the handler as a new execution environment would."""
        self.handler = load_handler()
        return self.handler

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.handler is None:
            self.cold_start()
        result: dict[str, Any] = self.handler.lambda_handler(event, LocalContext())
        return result

    def findings(self) -> list[dict[str, Any]]:
        return self.moto.findings(self.subscriber)

    def dead_letters(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self.moto.drain(self.dlq)]


@pytest.fixture
def lambda_env(aws_env: Moto, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
               ) -> Iterator[LambdaUnderTest]:
    topic, subscriber = aws_env.topic_with_queue()
    env = LambdaUnderTest(aws_env, aws_env.dedup_table(), topic, subscriber,
                          aws_env.queue("kubetrail-dlq"))
    monkeypatch.setenv("KUBETRAIL_DEDUP_TABLE", env.table)
    monkeypatch.setenv("KUBETRAIL_SNS_TOPIC_ARN", env.topic)
    monkeypatch.setenv("KUBETRAIL_DLQ_URL", env.dlq)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "kubetrail-test")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    # These tests are about delivery, dedup and publishing: the seed rule alone, through the
    # same KUBETRAIL_CONFIG a deployment would use.
    monkeypatch.setenv("KUBETRAIL_CONFIG", str(seed_only_config(tmp_path)))
    yield env
