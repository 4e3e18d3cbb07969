"""FirestoreDedupStore on the Firestore emulator: the shared DedupStore contract (8 racing
clients included), the stored document and its TTL field, error translation, and an emulator
that goes away mid-run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kubetrail.dedup.firestore import FirestoreDedupStore, document_id
from kubetrail.dedup.window import to_us
from kubetrail.errors import ConfigError, PublishError
from tests.dedup.conformance import HOUR, LEASE, T0, Clock, DedupConformance
from tests.emulators.gcloud import GcloudEmulators
from tests.emulators.net import LoopbackProxy

pytestmark = pytest.mark.gcp


@pytest.fixture(autouse=True)
def _emulator_env(gcloud_emulators: GcloudEmulators, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", gcloud_emulators.firestore_host)


class TestFirestoreDedupStore(DedupConformance):
    @pytest.fixture(autouse=True)
    def _collection(self, gcloud_emulators: GcloudEmulators) -> None:
        self.project = gcloud_emulators.project
        self.collection = gcloud_emulators.unique("dedup")

    def make_store(self, clock: Clock) -> FirestoreDedupStore:
        # A new client (own gRPC channel) per call, all over the same collection.
        return FirestoreDedupStore(self.collection, project=self.project, lease=LEASE,
                                   clock=clock)


def _store(emulators: GcloudEmulators, **kwargs: Any) -> FirestoreDedupStore:
    return FirestoreDedupStore(emulators.unique("dedup"), project=emulators.project, **kwargs)


def test_window_document_carries_the_key_state_and_ttl_field(
        gcloud_emulators: GcloudEmulators) -> None:
    store = _store(gcloud_emulators, clock=Clock(T0))
    key = "Kubernetes.DaemonSet.Created:a/b\x00c"
    claim = store.claim(key, T0, HOUR)
    doc = store.collection.document(document_id(key)).get().to_dict()
    assert doc["key"] == key and doc["state"] == "pending" and doc["token"] == claim.token
    assert doc["window_start"] == to_us(T0) and doc["window_end"] == to_us(T0 + HOUR)
    assert doc["expires_at"] == T0 + 2 * HOUR  # a Timestamp, for the TTL policy
    store.confirm(claim)
    store.claim(key, T0 + timedelta(minutes=7), HOUR)
    doc = store.collection.document(document_id(key)).get().to_dict()
    assert (doc["state"], doc["count"], doc["last_seen"]) == (
        "published", 2, to_us(T0 + timedelta(minutes=7)))


def test_expiry_follows_the_wall_clock_for_old_events(gcloud_emulators: GcloudEmulators) -> None:
    """A replayed year-old event must not be written already expired (TTL would drop it)."""
    clock = Clock(T0)
    store = _store(gcloud_emulators, clock=clock)
    old = T0 - timedelta(days=365)
    store.confirm(store.claim("k", old, HOUR))
    ref = store.collection.document(document_id("k"))
    assert ref.get().to_dict()["expires_at"] == T0 + HOUR
    clock.now = T0 + timedelta(minutes=30)
    assert not store.claim("k", old + timedelta(minutes=1), HOUR).owner
    assert ref.get().to_dict()["expires_at"] == T0 + timedelta(minutes=90)  # renewed by counting


def test_invalid_collection_is_a_config_error(gcloud_emulators: GcloudEmulators) -> None:
    with pytest.raises(ConfigError, match="collection"):
        FirestoreDedupStore("a/b", project=gcloud_emulators.project)


def test_unreachable_firestore_raises_publish_error_then_recovers(
        gcloud_emulators: GcloudEmulators, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = LoopbackProxy(gcloud_emulators.firestore_host)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", proxy.address)
    try:
        store = _store(gcloud_emulators, timeout=2.0)
        first = store.claim("k", T0, HOUR)
        assert first.owner
        proxy.cut()
        with pytest.raises(PublishError, match="dedup claim"):
            store.claim("k", T0 + timedelta(minutes=1), HOUR)
        proxy.restore()
        # The same client reconnects after gRPC's own backoff: the production budget (30 s)
        # for the retries as well as the wait.
        store.timeout = 30.0
        store._retry = store._retry.with_timeout(30.0)
        second = store.claim("k", T0 + timedelta(minutes=2), HOUR)
        assert (second.owner, second.count) == (False, 2)
    finally:
        proxy.close()
