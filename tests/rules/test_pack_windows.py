"""Windowed rules of the access pack end to end: a generated EKS stream scanned by `kubetrail
scan` (SQLite dedup store, with and without the prefilter) gives exactly one finding when the
threshold or the distinct count is reached, none below it, and one again in the next window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tests.rules.test_prefilter import assert_equivalent


def event(second: int, verb: str, resource: str, name: str | None, code: int, user: str,
          ips: list[str]) -> dict[str, Any]:
    minute, sec = divmod(second, 60)
    hour, minute = divmod(minute, 60)
    ts = f"2026-11-27T{10 + hour:02d}:{minute:02d}:{sec:02d}.000000Z"
    ref: dict[str, Any] = {"resource": resource, "namespace": "default", "apiVersion": "v1"}
    if name is not None:
        ref["name"] = name
    return {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
            "auditID": f"id-{second}-{user}", "stage": "ResponseComplete", "verb": verb,
            "requestURI": f"/api/v1/namespaces/default/{resource}" + (f"/{name}" if name else ""),
            "user": {"username": user, "groups": ["system:authenticated"]}, "sourceIPs": ips,
            "userAgent": "kubectl/v1.31.0", "objectRef": ref,
            "responseStatus": {"metadata": {}, "code": code},
            "requestReceivedTimestamp": ts, "stageTimestamp": ts}


def write(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return path


def by_rule(findings: list[dict[str, Any]], rule_id: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["rule_id"] == rule_id]


MALLORY, PRIVATE, PUBLIC = "mallory@example.com", ["10.0.4.2"], ["34.120.8.17"]
BULK = "Kubernetes.BulkSecretAccess"
DENIED = "Kubernetes.API.Multiple403.PublicIP"


def test_bulk_secret_access_publishes_once_at_the_fifteenth_distinct_secret(tmp_path: Path) -> None:
    events = []
    for i in range(14):  # 14 distinct secrets, each read three times
        events += [event(10 * i + k, "get", "secrets", f"s{i}", 200, MALLORY, PRIVATE)
                   for k in range(3)]
    below = assert_equivalent([write(tmp_path / "below.jsonl", events)])
    assert by_rule(below, BULK) == []
    events.append(event(200, "get", "secrets", "s14", 200, MALLORY, PRIVATE))  # the 15th
    events += [event(300 + i, "get", "secrets", f"t{i}", 200, MALLORY, PRIVATE)
               for i in range(20)]  # more, same window
    # A node reading secrets is excluded; another user has a count of her own.
    events += [event(400 + i, "get", "secrets", f"n{i}", 200,
                     "system:node:ip-10-0-1-2.ec2.internal", PRIVATE) for i in range(30)]
    events += [event(500 + i, "get", "secrets", f"e{i}", 200, "eve@example.com", PRIVATE)
               for i in range(15)]
    # Denied reads are not reads.
    events += [event(600 + i, "get", "secrets", f"d{i}", 403, "trent@example.com", PRIVATE)
               for i in range(20)]
    found = by_rule(assert_equivalent([write(tmp_path / "at.jsonl", events)]), BULK)
    assert sorted(f["context"]["username"] for f in found) == ["eve@example.com", MALLORY]
    # 31 minutes after the window opened, a new one starts: 15 new distinct reads, one more.
    events += [event(31 * 60 + i, "get", "secrets", f"u{i}", 200, MALLORY, PRIVATE)
               for i in range(15)]
    found = by_rule(assert_equivalent([write(tmp_path / "next.jsonl", events)]), BULK)
    assert [f["context"]["username"] for f in found].count(MALLORY) == 2


def test_denials_from_a_public_address_publish_once_at_the_tenth(tmp_path: Path) -> None:
    events = [event(i, "list", "pods", None, 403, MALLORY, PUBLIC) for i in range(9)]
    events += [event(20 + i, "list", "pods", None, 403, MALLORY, PRIVATE) for i in range(30)]
    events += [event(60 + i, "list", "pods", None, 200, MALLORY, PUBLIC) for i in range(30)]
    assert by_rule(assert_equivalent([write(tmp_path / "below.jsonl", events)]), DENIED) == []
    # The tenth, from behind a forged X-Forwarded-For and with a 401: same source, same count.
    events.append(event(100, "get", "secrets", "x", 401, "", ["1.2.3.4", *PUBLIC]))
    events += [event(110 + i, "list", "pods", None, 403, MALLORY, PUBLIC) for i in range(20)]
    found = by_rule(assert_equivalent([write(tmp_path / "at.jsonl", events)]), DENIED)
    assert len(found) == 1
    assert found[0]["dedup_key"] == f"{DENIED}:34.120.8.17"
    events += [event(30 * 60 + 200 + i, "list", "pods", None, 403, MALLORY, PUBLIC)
               for i in range(10)]
    found = by_rule(assert_equivalent([write(tmp_path / "next.jsonl", events)]), DENIED)
    assert len(found) == 2
