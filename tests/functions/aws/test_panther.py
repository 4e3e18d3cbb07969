"""A Panther rule, unchanged, fires in the Lambda on a live CloudWatch Logs delivery (moto): the
extra rules and Panther root come from KUBETRAIL_RULES / KUBETRAIL_PANTHER_ROOT, the finding is
the same document on SNS as a native one, and redelivery publishes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubetrail.sources.cloudwatch import encode_awslogs
from tests.functions.aws.conftest import GROUP, STREAM, LambdaUnderTest
from tests.panther.conftest import panther_analysis  # noqa: F401 - the corpus fixture
from tests.panther.records import RULE_ID, binding_event

pytestmark = pytest.mark.aws


def test_a_panther_rule_fires_on_a_cloudwatch_delivery(
        lambda_env: LambdaUnderTest, panther_analysis: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBETRAIL_CONFIG", raising=False)  # the harness's seed-only config
    monkeypatch.setenv("KUBETRAIL_RULES", str(panther_analysis / "rules" / "kubernetes_rules"))
    monkeypatch.setenv("KUBETRAIL_PANTHER_ROOT", str(panther_analysis))
    delivery = encode_awslogs(GROUP, STREAM, [json.dumps(binding_event())])
    result = lambda_env.invoke(delivery)
    (finding,) = lambda_env.findings()
    assert finding["rule_id"] == RULE_ID and finding["cloud"] == "aws"
    assert finding["cluster"] == "prod" and finding["severity"] == "HIGH"
    assert finding["context"]["username"] == "mallory@example.com"
    assert finding["risk"]["cluster"] == "prod"  # Panther's p_source_label
    assert finding["risk"]["role_name"] == "cluster-admin"
    assert result["findings"] == [finding["id"]]
    lambda_env.invoke(delivery)  # CloudWatch redelivers: the window is open
    assert lambda_env.findings() == []
