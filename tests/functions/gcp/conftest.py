"""The GCP function under test: its topics and dedup collection on the gcloud emulators, and a
fresh instance of functions/gcp/main.py."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from tests.emulators.gcloud import GcloudEmulators
from tests.functions.gcp.helpers import load_main


@dataclass
class Deployment:
    """The function's topics, a pull subscription on each, and its settings."""

    emulators: GcloudEmulators
    findings_sub: str
    deadletter_sub: str
    env: dict[str, str]

    def findings(self) -> list[Any]:
        return self.emulators.pull(self.findings_sub)

    def dead_letters(self) -> list[Any]:
        return self.emulators.pull(self.deadletter_sub)


@pytest.fixture(scope="session")
def warm_firestore(gcloud_emulators: GcloudEmulators) -> GcloudEmulators:
    """One Firestore round trip with a generous deadline: a just-started emulator's first
    transaction can take longer than the function's 3 s timeout on a loaded machine."""
    from google.cloud import firestore

    with pytest.MonkeyPatch.context() as patch:
        for name, value in gcloud_emulators.env().items():
            patch.setenv(name, value)
        doc = firestore.Client(project=gcloud_emulators.project).collection("warm-up").document()
        doc.set({"warm": True}, timeout=60)
        doc.get(timeout=60)
    return gcloud_emulators


@pytest.fixture
def deployment(warm_firestore: GcloudEmulators, monkeypatch: pytest.MonkeyPatch
               ) -> Deployment:
    gcloud_emulators = warm_firestore
    findings, findings_sub = gcloud_emulators.topic_with_subscription("findings")
    deadletter, deadletter_sub = gcloud_emulators.topic_with_subscription("deadletter")
    env = {**gcloud_emulators.env(),
           "KUBETRAIL_DEDUP_COLLECTION": gcloud_emulators.unique("dedup"),
           "KUBETRAIL_FINDINGS_TOPIC": findings.rsplit("/", 1)[1],  # short name + project
           "KUBETRAIL_DEADLETTER_TOPIC": deadletter,  # full path
           "KUBETRAIL_TIMEOUT_SECONDS": "3"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return Deployment(gcloud_emulators, findings_sub, deadletter_sub, env)


@pytest.fixture
def main(deployment: Deployment) -> ModuleType:
    return load_main()
