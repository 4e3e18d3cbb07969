"""KUBETRAIL_FINDING_FORMAT=ocsf: the findings topic carries OCSF Detection Findings (gcloud
Pub/Sub and Firestore emulators)."""

from __future__ import annotations

import orjson
import pytest

from tests.functions.gcp.conftest import Deployment
from tests.functions.gcp.helpers import cloud_event, load_main
from tests.functions.poison import USERS, gke_entries

pytestmark = pytest.mark.gcp
models = pytest.importorskip("py_ocsf_models.events.findings.detection_finding")


def test_pubsub_carries_ocsf_detection_findings(deployment: Deployment,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBETRAIL_FINDING_FORMAT", "ocsf")
    load_main().handle(cloud_event(gke_entries()["good"].encode(), message_id="9001"))
    [message] = deployment.findings()
    doc = orjson.loads(message.data)
    model = models.DetectionFinding.model_validate(doc)
    assert model.cloud is not None and model.cloud.provider == "GCP"
    assert doc["actor"]["user"]["name"] == USERS["good"]
    assert message.attributes["rule_id"] == doc["finding_info"]["analytic"]["uid"]
