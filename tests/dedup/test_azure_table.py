"""The Table Storage DedupStore against Azurite: the shared contract (8 racing clients included),
ETag conflicts, the TTL stand-in `purge_expired`, and error translation."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from azure.data.tables import TableServiceClient

from kubetrail.dedup.azure_table import AzureTableDedupStore, row_id
from kubetrail.errors import ConfigError, PublishError
from tests.dedup.conformance import HOUR, LEASE, T0, Clock, DedupConformance
from tests.emulators.azurite import closed_port, connection_string

pytestmark = pytest.mark.azure


def new_table(connection_string: str) -> str:
    name = "dedup" + uuid.uuid4().hex[:12]
    TableServiceClient.from_connection_string(connection_string).create_table(name)
    return name


class TestAzureTableDedupStore(DedupConformance):
    @pytest.fixture(autouse=True)
    def _table(self, azurite: str) -> None:
        self.connection_string = azurite
        self.table = new_table(azurite)

    def make_store(self, clock: Clock) -> AzureTableDedupStore:
        return AzureTableDedupStore(self.table, connection_string=self.connection_string,
                                    lease=LEASE, clock=clock)

    def test_entity_is_keyed_by_hash_and_keeps_the_key(self) -> None:
        store, key = self.make_store(Clock()), "rule:ali/ce#?\\\x00"
        store.confirm(store.claim(key, T0, HOUR))
        entity = store.client.get_entity(row_id(key), "")
        assert entity["dedup_key"] == "rule:ali/ce#?\\\\x00"
        assert (entity["state"], entity["count"]) == ("published", 1)
        assert entity["expires_at"] == (T0 + 2 * HOUR).timestamp()

    def test_confirm_after_takeover_does_not_touch_the_new_owner(self) -> None:
        clock = Clock()
        store, key = self.make_store(clock), self.key()
        dead = store.claim(key, T0, HOUR)
        clock.now = T0 + LEASE + timedelta(seconds=1)
        taken = store.claim(key, T0, HOUR)
        store.confirm(dead)  # the late, dead owner wakes up: its token is stale
        store.release(dead)
        entity = store.client.get_entity(row_id(key), "")
        assert (entity["state"], entity["token"]) == ("pending", taken.token)

    def test_purge_expired_deletes_only_expired_windows(self) -> None:
        clock = Clock()
        store = self.make_store(clock)
        old, fresh = self.key(), self.key()
        store.confirm(store.claim(old, T0, HOUR))
        store.confirm(store.claim(fresh, T0 + 3 * HOUR, HOUR))
        assert store.purge_expired(T0 + 2 * HOUR + timedelta(seconds=1)) == 1
        assert store.claim(old, T0 + timedelta(minutes=1), HOUR).owner  # gone: reopens
        assert not store.claim(fresh, T0 + 3 * HOUR, HOUR).owner


def test_missing_table_is_a_config_error(azurite: str) -> None:
    store = AzureTableDedupStore("nosuchtable" + uuid.uuid4().hex[:8], connection_string=azurite)
    with pytest.raises(ConfigError, match="does not exist"):
        store.claim("k", T0, HOUR)


def test_unreachable_service_is_a_publish_error() -> None:
    from azure.data.tables import TableClient

    closed = connection_string(queue_port=closed_port(), table_port=closed_port())
    client = TableClient.from_connection_string(closed, table_name="dedup", retry_total=0)
    store = AzureTableDedupStore("dedup", client=client)
    with pytest.raises(PublishError, match="unavailable"):
        store.claim("k", T0, HOUR)


def test_no_endpoint_and_no_connection_string_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="endpoint or a connection string"):
        AzureTableDedupStore("dedup")


def test_a_replayed_old_window_expires_a_period_after_now(azurite: str) -> None:
    clock = Clock(T0 + timedelta(days=3))  # events three days old, delivered late
    store = AzureTableDedupStore(new_table(azurite), connection_string=azurite, clock=clock)
    store.confirm(store.claim("late-key", T0, HOUR))
    assert store.purge_expired(T0 + timedelta(days=3, minutes=59)) == 0
    assert not store.claim("late-key", T0 + timedelta(minutes=5), HOUR).owner
    assert store.purge_expired(T0 + timedelta(days=3, hours=1, seconds=1)) == 1


def test_an_entity_of_the_earlier_layout_is_replaced_by_a_new_window(azurite: str) -> None:
    """Entities written before severity existed (times as Double seconds): one new window."""
    table, key = new_table(azurite), "Kubernetes.DaemonSet.Created:old\x1fdefault"
    store = AzureTableDedupStore(table, connection_string=azurite, clock=Clock())
    ts = T0.timestamp()
    store.client.create_entity({
        "PartitionKey": row_id(key), "RowKey": "", "dedup_key": "old", "window_start": ts,
        "window_end": ts + 3600, "count": 3, "last_seen": ts, "state": "published",
        "token": "old", "lease_until": ts, "expires_at": ts + 7200})
    first = store.claim(key, T0 + timedelta(minutes=1), HOUR)
    assert (first.owner, first.count) == (True, 1)
    store.confirm(first)
    assert not store.claim(key, T0 + timedelta(minutes=2), HOUR).owner
