"""EventGridPublisher against the Event Grid stand-in (a real HTTP server on loopback that checks
the key, the CloudEvents batch format and the 1 MB limits as the service documents them)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta

import orjson
import pytest

from kubetrail.dedup.sqlite import SqliteDedupStore
from kubetrail.errors import ConfigError, PublishError
from kubetrail.findings import Finding, build_finding
from kubetrail.publish.eventgrid import EVENT_TYPE, EventGridPublisher, clean_source
from kubetrail.rules import RuleSet, load_rules
from tests.emulators.azurite import EventGridStandin, closed_port
from tests.factories import SEED_RULE, T0, make_event

pytestmark = pytest.mark.azure
RULES = RuleSet(load_rules([SEED_RULE]))


def finding(user: str = "alice@example.com", cluster: str = "AKS-PROD", **kw: object) -> Finding:
    event = make_event(log_type="Azure.MonitorActivity", username=user, cluster=cluster, **kw)
    (match,), _ = RULES.evaluate(event)
    claim = SqliteDedupStore().claim(match.dedup_key, T0, timedelta(minutes=60))
    return build_finding(match, claim, T0)


def huge(n: int, size: int) -> Finding:
    """A finding with a document of about `size` bytes (bigger than build_finding allows)."""
    doc = {"id": f"huge-{n}", "rule_id": "R", "title": "t", "severity": "LOW", "cluster": "c",
           "pad": "x" * size}
    return Finding(id=f"huge-{n}", rule_id="R", title="t", severity="LOW", cloud="azure",
                   cluster="c", document=doc)


def publisher(standin: EventGridStandin, key: str | None = None) -> EventGridPublisher:
    return EventGridPublisher(standin.endpoint, key=key or standin.key, retry_total=0)


def test_each_finding_is_a_cloudevent_with_the_document_as_data(
        eventgrid: EventGridStandin) -> None:
    findings = [finding("alice@example.com"), finding("bob@example.com")]
    results = publisher(eventgrid).publish(findings)
    assert [(r.finding_id, r.ok) for r in results] == [(f.id, True) for f in findings]
    got = eventgrid.events()
    assert [e["data"] for e in got] == [orjson.loads(f.to_json()) for f in findings]
    first = got[0]
    assert first["specversion"] == "1.0" and first["type"] == EVENT_TYPE == "kubetrail.finding"
    assert (first["source"], first["subject"]) == ("AKS-PROD", "Kubernetes.DaemonSet.Created")
    assert first["id"] == findings[0].id
    assert first["time"].startswith("2026-11-27T12:00:00")
    assert first["severity"] == findings[0].severity.lower()


def test_attacker_controlled_cluster_cannot_forge_attributes(eventgrid: EventGridStandin) -> None:
    evil = "prod\r\nsubject: forged\x00\x1b[31m/../" + "é" * 500
    [result] = publisher(eventgrid).publish([finding(cluster=evil)])
    assert result.ok
    [event] = eventgrid.events()
    assert event["source"] == clean_source(evil)
    assert event["source"].startswith("prod%0D%0Asubject%3A%20forged%00%1B%5B31m%2F..%2F")
    assert all(c.isprintable() and not c.isspace() for c in event["source"])
    assert len(event["source"]) <= 256
    assert event["subject"] == "Kubernetes.DaemonSet.Created"
    assert event["data"]["cluster"] == evil  # the document keeps the real value


def test_batches_stay_under_the_one_megabyte_limit(eventgrid: EventGridStandin) -> None:
    findings = [huge(i, 200 * 1024) for i in range(12)]  # ~2.4 MB in all
    results = publisher(eventgrid).publish(findings)
    assert all(r.ok for r in results)
    assert [e["id"] for e in eventgrid.events()] == [f.id for f in findings]


def test_a_rejected_batch_after_a_sent_one_is_a_per_finding_error(
        eventgrid: EventGridStandin) -> None:
    findings = [finding("a@example.com"), huge(1, 1100 * 1024), finding("b@example.com")]
    results = publisher(eventgrid).publish(findings)
    assert [r.ok for r in results] == [True, False, True]
    assert "413" in (results[1].error or "") or "RequestTooLarge" in (results[1].error or "")
    assert [e["id"] for e in eventgrid.events()] == [findings[0].id, findings[2].id]


def test_wrong_key_is_a_config_error(eventgrid: EventGridStandin) -> None:
    with pytest.raises(ConfigError, match="refused the credentials"):
        publisher(eventgrid, key="not-the-key").publish([finding()])
    assert eventgrid.events() == []


def test_unknown_topic_path_is_a_config_error(eventgrid: EventGridStandin) -> None:
    wrong = EventGridPublisher(eventgrid.endpoint.replace("/api/events", "/api/nothing"),
                               key=eventgrid.key, retry_total=0)
    with pytest.raises(ConfigError, match="not found"):
        wrong.publish([finding()])


def test_unreachable_topic_raises_publish_error() -> None:
    down = EventGridPublisher(f"http://127.0.0.1:{closed_port()}/api/events", key="k",
                              retry_total=0)
    with pytest.raises(PublishError, match="Event Grid publish failed"):
        down.publish([finding()])


# --- the stand-in itself answers as Event Grid documents it ---------------------------------
def post(standin: EventGridStandin, body: bytes, *, key: str | None = None,
         ctype: str = "application/cloudevents-batch+json; charset=utf-8",
         query: str = "?api-version=2018-01-01") -> int:
    req = urllib.request.Request(standin.endpoint + query, data=body, method="POST",
                                 headers={"content-type": ctype,
                                          "aeg-sas-key": standin.key if key is None else key})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


EVENT = {"specversion": "1.0", "id": "1", "source": "s", "type": "t", "data": {}}


@pytest.mark.parametrize(("kwargs", "body", "status"), [
    ({}, [EVENT], 200),
    ({"key": ""}, [EVENT], 401),
    ({"key": "wrong"}, [EVENT], 401),
    ({"query": ""}, [EVENT], 400),
    ({"ctype": "application/json"}, [EVENT], 400),
    ({}, {"not": "a batch"}, 400),
    ({}, [{**EVENT, "specversion": "0.3"}], 400),
    ({}, [{k: v for k, v in EVENT.items() if k != "source"}], 400),
    ({}, [{**EVENT, "data": "x" * (1024 * 1024)}], 413),
])
def test_standin_checks(eventgrid: EventGridStandin, kwargs: dict[str, str], body: object,
                        status: int) -> None:
    assert post(eventgrid, json.dumps(body).encode(), **kwargs) == status
    assert len(eventgrid.events()) == (1 if status == 200 else 0)


def test_standin_rejects_a_malformed_body(eventgrid: EventGridStandin) -> None:
    assert post(eventgrid, b"[{not json") == 400
