"""A Panther rule, unchanged, fires in the GCP function on a live Pub/Sub delivery (the Pub/Sub
and Firestore emulators): the LogEntry reaches the rule through panther-analysis's GCP data
model, the finding is published once."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.emulators.gcloud import GcloudEmulators
from tests.functions.gcp.helpers import cloud_event, load_main
from tests.panther.conftest import panther_analysis  # noqa: F401 - the corpus fixture
from tests.panther.records import RULE_ID, binding_entry

pytestmark = pytest.mark.gcp


def test_a_panther_rule_fires_on_a_pubsub_delivery(
        gcloud_emulators: GcloudEmulators, panther_analysis: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    findings, findings_sub = gcloud_emulators.topic_with_subscription("findings")
    deadletter, _ = gcloud_emulators.topic_with_subscription("deadletter")
    env = {**gcloud_emulators.env(),
           "KUBETRAIL_DEDUP_COLLECTION": gcloud_emulators.unique("dedup"),
           "KUBETRAIL_FINDINGS_TOPIC": findings, "KUBETRAIL_DEADLETTER_TOPIC": deadletter,
           "KUBETRAIL_TIMEOUT_SECONDS": "10",
           "KUBETRAIL_RULES": str(panther_analysis / "rules" / "kubernetes_rules"),
           "KUBETRAIL_PANTHER_ROOT": str(panther_analysis)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    main = load_main()
    event = cloud_event(binding_entry(), message_id="2001")
    main.handle(event)
    (message,) = gcloud_emulators.pull(findings_sub)
    finding = orjson.loads(message.data)
    assert finding["rule_id"] == RULE_ID and finding["cloud"] == "gcp"
    assert finding["cluster"] == "gke-prod" and finding["risk"]["cluster"] == "gke-prod"
    assert finding["risk"]["username"] == "mallory@example.com"
    assert finding["risk"]["resource"] == "clusterrolebindings"  # the GCP data model's reading
    main.handle(event)  # Pub/Sub redelivers
    assert gcloud_emulators.pull(findings_sub) == []
