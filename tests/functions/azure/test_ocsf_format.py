"""KUBETRAIL_FINDING_FORMAT=ocsf: Event Grid events carry OCSF Detection Findings (Azurite and
the loopback Event Grid stand-in)."""

from __future__ import annotations

import pytest

from tests.emulators.azurite import EventGridStandin
from tests.functions.azure.harness import FunctionUnderTest
from tests.functions.azure.test_poison import poison_batch
from tests.functions.poison import USERS

pytestmark = pytest.mark.azure
models = pytest.importorskip("py_ocsf_models.events.findings.detection_finding")


def test_event_grid_carries_ocsf_detection_findings(
        function: FunctionUnderTest, eventgrid: EventGridStandin,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBETRAIL_FINDING_FORMAT", "ocsf")
    function.deliver(poison_batch())
    docs = [e["data"] for e in eventgrid.events()]
    assert docs
    for doc in docs:
        model = models.DetectionFinding.model_validate(doc)
        assert model.cloud is not None and model.cloud.provider == "Azure"
        assert model.cloud.account is not None  # the subscription, from the resourceId
    assert {USERS["good"], USERS["bad_host"]} <= {d["actor"]["user"]["name"] for d in docs}
