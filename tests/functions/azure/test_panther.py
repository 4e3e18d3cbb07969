"""A Panther rule, unchanged, fires in the Azure function on a live Event Hub delivery (Azurite +
the Event Grid stand-in): the AKS record reaches the rule with properties.log as its JSON string,
read through panther-analysis's AKS data model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emulators.azurite import EventGridStandin
from tests.functions.azure.harness import FunctionUnderTest
from tests.functions.azure.records import aks_record, body
from tests.panther.conftest import panther_analysis  # noqa: F401 - the corpus fixture
from tests.panther.records import RULE_ID, binding_event

pytestmark = pytest.mark.azure


def test_a_panther_rule_fires_on_an_event_hub_delivery(
        function: FunctionUnderTest, eventgrid: EventGridStandin,
        panther_analysis: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.delenv("KUBETRAIL_CONFIG", raising=False)  # the harness's seed-only config
    monkeypatch.setenv("KUBETRAIL_RULES", str(panther_analysis / "rules" / "kubernetes_rules"))
    monkeypatch.setenv("KUBETRAIL_PANTHER_ROOT", str(panther_analysis))
    payload = body(aks_record(binding_event(), cluster="AKS-PROD"))
    function.deliver([payload], first_sequence=7)
    (event,) = eventgrid.events()
    finding = event["data"]
    assert finding["rule_id"] == RULE_ID and finding["cloud"] == "azure"
    assert finding["cluster"] == "AKS-PROD" and finding["risk"]["cluster"] == "AKS-PROD"
    assert finding["context"]["username"] == "mallory@example.com"
    assert finding["risk"]["username"] == "mallory@example.com"  # udm through the data model
    function.deliver([payload], first_sequence=7)  # a retry of the same batch
    assert len(eventgrid.events()) == 1
