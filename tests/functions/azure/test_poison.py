"""The Azure function on Azurite and the Event Grid stand-in with the poison set of issue 9 as
AKS diagnostic records in one Event Hub batch: the good findings are published, each poison
record is dead-lettered with its reason, and the function returns (so the partition moves on)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulators.azurite import EventGridStandin
from tests.functions.azure.harness import FunctionUnderTest
from tests.functions.azure.records import RESOURCE_ID
from tests.functions.poison import POISON, REASON, USERS, k8s_messages

pytestmark = pytest.mark.azure
ORDER = (*POISON, "bad_host", "good")


def diagnostic_record(log: str) -> dict[str, Any]:
    """A kube-audit-admin record as diagnostic settings stream it (`log` ends in a newline)."""
    return {"operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
            "category": "kube-audit-admin", "resourceId": RESOURCE_ID.format(cluster="AKS-PROD"),
            "time": "2026-11-27T12:00:00.000000Z",
            "properties": {"log": log + "\n", "stream": "stdout",
                           "pod": "kube-apiserver-6d5b7c9f4-abcde"}}


def poison_batch() -> list[bytes]:
    """Two Event Hub events: the poison set (the 1000-deep array is a record's properties.log,
    spliced in as JSON text), then the good record after them."""
    texts = k8s_messages()
    records = [diagnostic_record("@DEEP@" if key == "deep_array" else texts[key])
               for key in ORDER[:-1]]
    first = json.dumps({"records": records}).replace('"@DEEP@\\n"', texts["deep_array"])
    second = json.dumps({"records": [diagnostic_record(texts["good"])]})
    return [first.encode(), second.encode()]


def test_poison_records_are_dead_lettered_and_the_good_finding_is_published(
        function: FunctionUnderTest, eventgrid: EventGridStandin) -> None:
    payloads = poison_batch()
    function.deliver(payloads, first_sequence=40)  # returns: the checkpoint may move on
    findings = [e["data"] for e in eventgrid.events()]
    by_user = {f["context"]["username"]: f for f in findings if f.get("kind") != "rule_error"}
    assert set(by_user) == {USERS["good"], USERS["bad_host"]}
    assert {f["rule_id"] for f in by_user.values()} == {"Kubernetes.DaemonSet.Created"}
    letters = {d["position"]: d for d in map(json.loads, function.dead_letters())}
    expected = {f"offset=0,seq=40/records[{ORDER.index(key)}]": key for key in POISON}
    assert set(letters) == set(expected)
    for position, letter in letters.items():
        assert REASON[expected[position]] in letter["reason"], letter["reason"]
        assert letter["source"] == "eventhub:aks-audit/3", position
    deep = letters[f"offset=0,seq=40/records[{ORDER.index('deep_array')}]"]
    assert "[[[[" in deep.get("raw", "")  # the record is kept for a human to read

    function.deliver(payloads, first_sequence=40)  # a redelivery publishes nothing new
    assert len(eventgrid.events()) == len(findings)
