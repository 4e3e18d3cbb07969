"""DynamoDBDedupStore against the moto server over HTTP: the DedupStore contract, the stored item
(TTL, counter, last_seen), 8 processes racing, and SDK errors translated."""

from __future__ import annotations

import multiprocessing
import os
from datetime import timedelta
from typing import Any

import pytest

from kubetrail.dedup.dynamodb import DynamoDBDedupStore
from kubetrail.errors import ConfigError, PublishError
from tests.dedup.conformance import HOUR, LEASE, T0, Clock, DedupConformance
from tests.emulators.moto import Moto
from tests.emulators.net import LoopbackProxy

pytestmark = pytest.mark.aws


class TestDynamoDBDedupStore(DedupConformance):
    @pytest.fixture(autouse=True)
    def _table(self, aws_env: Moto) -> None:
        self.moto = aws_env
        self.table = aws_env.dedup_table()

    def make_store(self, clock: Clock) -> DynamoDBDedupStore:
        # A new client per store: the race test really races separate connections.
        return DynamoDBDedupStore(self.table, client=self.moto.client("dynamodb"), lease=LEASE,
                                  clock=clock)

    def item(self, key: str) -> dict[str, Any]:
        got = self.moto.client("dynamodb").get_item(
            TableName=self.table, Key=DynamoDBDedupStore.item_key(key), ConsistentRead=True)
        return dict(got.get("Item", {}))

    def test_item_carries_ttl_counter_and_last_seen(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        store.confirm(store.claim(key, T0, HOUR))
        store.claim(key, T0 + timedelta(minutes=20), HOUR)
        store.claim(key, T0 + timedelta(minutes=5), HOUR)  # late: counted, last_seen stays
        item = self.item(key)
        assert item["dedup_key"]["S"] == key
        assert item["count"]["N"] == "3"
        assert item["state"]["S"] == "published"
        assert int(item["last_seen"]["N"]) == int((T0 + timedelta(minutes=20)).timestamp()) * 10**6
        # TTL in epoch seconds: window end + period, so the item outlives its window by a period.
        assert int(item["expires_at"]["N"]) == int((T0 + 2 * HOUR).timestamp())

    def test_release_puts_the_window_back_to_counting(self) -> None:
        store, key = self.make_store(Clock()), self.key()
        store.release(store.claim(key, T0, HOUR))
        item = self.item(key)
        assert (item["state"]["S"], item["count"]["N"], item["severity"]["N"]) == (
            "counting", "1", "-1")


def _race(endpoint: str, table: str, key: str, i: int, barrier: Any, out: Any) -> None:
    import boto3

    client = boto3.session.Session().client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing")
    store = DynamoDBDedupStore(table, client=client, clock=Clock())
    barrier.wait()
    claim = store.claim(key, T0 + timedelta(seconds=i), HOUR)
    out.put((claim.owner, claim.count))


def test_eight_processes_racing_on_one_key_make_one_owner(aws_env: Moto) -> None:
    table, key = aws_env.dedup_table(), "Kubernetes.DaemonSet.Created:eve\x1fkube-system"
    ctx = multiprocessing.get_context("spawn" if os.name != "posix" else "fork")
    barrier, out = ctx.Barrier(8), ctx.Queue()
    procs = [ctx.Process(target=_race, args=(aws_env.endpoint, table, key, i, barrier, out))
             for i in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 8
    results = [out.get(timeout=5) for _ in range(8)]
    assert sum(owner for owner, _ in results) == 1
    assert sorted(count for _, count in results) == list(range(1, 9))


def test_missing_table_is_a_config_error(aws_env: Moto) -> None:
    store = DynamoDBDedupStore("no-such-table", client=aws_env.client("dynamodb"))
    with pytest.raises(ConfigError, match="no-such-table"):
        store.claim("k", T0, HOUR)


def test_unreachable_dynamodb_is_a_publish_error_and_recovers(
        aws_env: Moto, moto_proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    table, proxy = aws_env.dedup_table(), moto_proxy
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.endpoint)
    store = DynamoDBDedupStore(table)  # the default client, built from the environment
    proxy.cut()
    with pytest.raises(PublishError, match="dynamodb claim"):
        store.claim("k", T0, HOUR)
    proxy.restore()
    assert store.claim("k", T0, HOUR).owner  # same cached client, service back


def test_an_item_of_the_earlier_layout_is_replaced_by_a_new_window(aws_env: Moto) -> None:
    """Items written before severity/version existed: no crash, one new window, then dedup."""
    table, key = aws_env.dedup_table(), "Kubernetes.DaemonSet.Created:old\x1fdefault"
    us = int(T0.timestamp()) * 10**6
    aws_env.client("dynamodb").put_item(TableName=table, Item={
        **DynamoDBDedupStore.item_key(key), "dedup_key": {"S": key},
        "window_start": {"N": str(us)}, "window_end": {"N": str(us + 3600 * 10**6)},
        "count": {"N": "3"}, "last_seen": {"N": str(us)}, "state": {"S": "published"},
        "token": {"S": "old"}, "lease_until": {"N": str(us)},
        "expires_at": {"N": str(int(T0.timestamp()) + 7200)}})
    store = DynamoDBDedupStore(table, client=aws_env.client("dynamodb"), clock=Clock())
    first = store.claim(key, T0 + timedelta(minutes=1), HOUR)
    assert (first.owner, first.count) == (True, 1)
    store.confirm(first)
    assert not store.claim(key, T0 + timedelta(minutes=2), HOUR).owner


def test_a_match_that_only_counts_is_one_conditional_update(aws_env: Moto) -> None:
    """The commonest claim costs one write and no read; anything that may change ownership
    (escalation, threshold, late event, expiry renewal) reads and swaps."""
    calls: list[str] = []
    client = aws_env.client("dynamodb")
    client.meta.events.register("before-call.dynamodb.*",
                                lambda model, **_: calls.append(model.name))
    store = DynamoDBDedupStore(aws_env.dedup_table(), client=client, clock=Clock())
    store.confirm(store.claim("k", T0, HOUR, severity=1))
    calls.clear()
    counted = [store.claim("k", T0 + timedelta(minutes=m), HOUR, severity=s)
               for m, s in ((1, 1), (2, 0), (3, 1))]
    assert calls == ["UpdateItem"] * 3
    assert [(c.owner, c.count) for c in counted] == [(False, 2), (False, 3), (False, 4)]
    calls.clear()
    high = store.claim("k", T0 + timedelta(minutes=4), HOUR, severity=3)
    assert high.owner and high.escalation and calls == ["UpdateItem", "GetItem", "PutItem"]
    calls.clear()
    late = store.claim("k", T0 + timedelta(minutes=1), HOUR, severity=0)  # out of order
    assert (late.owner, late.count) == (False, 6) and "GetItem" in calls
    threshold = [store.claim("t", T0, HOUR, 3).owner for _ in range(4)]
    assert threshold == [False, False, True, False]
