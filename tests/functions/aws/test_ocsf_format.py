"""KUBETRAIL_FINDING_FORMAT=ocsf: SNS carries OCSF Detection Findings (moto server)."""

from __future__ import annotations

import pytest

from kubetrail.errors import ConfigError
from tests.functions.aws.conftest import LambdaUnderTest
from tests.functions.aws.test_poison import poison_delivery
from tests.functions.poison import USERS

pytestmark = pytest.mark.aws
models = pytest.importorskip("py_ocsf_models.events.findings.detection_finding")


def test_sns_carries_ocsf_detection_findings(lambda_env: LambdaUnderTest,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBETRAIL_FINDING_FORMAT", "ocsf")
    event, _ = poison_delivery()
    result = lambda_env.invoke(event)
    docs = lambda_env.findings()
    assert sorted(d["metadata"]["uid"] for d in docs) == sorted(result["findings"])
    users = set()
    for doc in docs:
        model = models.DetectionFinding.model_validate(doc)
        assert model.class_uid == 2004 and model.cloud is not None
        assert model.cloud.provider == "AWS"
        users.add(doc["actor"]["user"]["name"])
    assert {USERS["good"], USERS["bad_host"]} <= users


def test_an_unknown_format_is_a_named_configuration_error(
        lambda_env: LambdaUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBETRAIL_FINDING_FORMAT", "xml")
    with pytest.raises(ConfigError, match="KUBETRAIL_FINDING_FORMAT"):
        lambda_env.invoke(poison_delivery()[0])
