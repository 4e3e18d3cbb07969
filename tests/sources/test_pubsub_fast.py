"""The Pub/Sub push fast path prefilters an entry only when the full decode of it matches no rule,
and declines (None) whatever it does not read exactly as the full decoder does."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from kubetrail.errors import Origin
from kubetrail.rules import RuleSet, load_rules
from kubetrail.sources.base import Decoded, Prefiltered
from kubetrail.sources.detect import decode_line
from kubetrail.sources.pubsub_fast import prefiltered_push
from tests.sources.helpers import pubsub_push
from tests.synthetic import events

RULES = RuleSet(load_rules())
PREFILTER = RULES.prefilter
ORIGIN = Origin("push")


def entry(verb: str = "get", resource: str = "pods", *, namespace: str | None = "default",
          group: str = "core", sub: str | None = None, user: str = "alice@example.com",
          ip: str = "10.1.2.3", code: Any = None, **proto: Any) -> dict[str, Any]:
    parts = [resource] + ([sub] if sub else [])
    method = f"io.k8s.{group}.v1.{'.'.join(parts)}.{verb}"
    name = f"{group}/v1" + (f"/namespaces/{namespace}" if namespace else "") + f"/{resource}/x"
    name += f"/{sub}" if sub else ""
    pp: dict[str, Any] = {
        "serviceName": "k8s.io", "methodName": method, "resourceName": name,
        "authenticationInfo": {"principalEmail": user}, "requestMetadata": {"callerIp": ip},
        "status": {} if code is None else {"code": code}, **proto}
    return {"insertId": "i1", "protoPayload": pp, "timestamp": "2026-11-27T00:00:00Z",
            "resource": {"type": "k8s_cluster", "labels": {"cluster_name": "gke-1"}}}


def line(value: Any) -> bytes:
    return orjson.dumps(pubsub_push(value)) + b"\n"


def full_matches(text: bytes) -> list[str]:
    """Rule ids the full decode of `text` matches (no prefilter)."""
    found = []
    for outcome in decode_line(text, ORIGIN):
        if type(outcome) is Decoded:
            found += [m.rule.rule_id for m in RULES.evaluate(outcome.event)[0]]
    return found


def fast(text: bytes) -> list[Any] | None:
    assert PREFILTER is not None
    return prefiltered_push(text, ORIGIN, PREFILTER)


def test_prefiltered_entries_match_nothing_and_candidates_are_declined() -> None:
    taken = 0
    for ev in events(3000, seed=5, daemonset_every=50):
        ref = ev["objectRef"]
        code = {401: 16, 403: 7, 404: 5, 409: 6}.get(ev["responseStatus"]["code"])
        text = line(entry(ev["verb"], ref["resource"], namespace=ref.get("namespace"),
                          group=ref.get("apiGroup") or "core", sub=ref.get("subresource"),
                          user=ev["user"]["username"], code=code))
        answer = fast(text)
        assert answer is not None  # every plain entry is read
        if answer:
            taken += 1
            assert answer == [Prefiltered(ORIGIN.child("4711"))]
            assert full_matches(text) == [], text
    assert 2500 < taken < 3000  # most are prefiltered, the candidates are not


@pytest.mark.parametrize("value", [
    entry("create", "daemonsets", group="apps"),
    entry("create", "pods", namespace="kube-system"),
    entry("get", "secrets"),
    entry("create", "pods", sub="exec"),
    entry(user="system:anonymous"),
    entry(ip="34.120.8.17", user="system:node:gke-node-1"),  # System.Principal.PublicIP
    entry(ip="::ffff:34.1.2.3", user="system:kube-scheduler"),
    entry(code=7, ip="8.8.8.8"),
    entry("list", "secrets", code=7),
    entry("create", "clusterrolebindings", group="rbac.authorization.k8s.io"),
], ids=lambda v: v["protoPayload"]["methodName"] + " " + str(v["protoPayload"]["status"]))
def test_entries_some_rule_may_match_are_candidates(value: dict[str, Any]) -> None:
    assert fast(line(value)) == []


def test_caller_ip_spelled_callerIP_is_read_too() -> None:
    value = entry(user="system:node:gke-node-1")
    value["protoPayload"]["requestMetadata"] = {"callerIP": "34.120.8.17"}
    assert fast(line(value)) == []
    assert full_matches(line(value))  # the public-source rule
    value["protoPayload"]["requestMetadata"] = {"callerIP": "10.0.0.1"}
    assert fast(line(value))


@pytest.mark.parametrize("text", [
    line(entry(serviceName="container.googleapis.com")),
    line(entry(code=99)),
    line(entry(code="7")),
    line(entry(code=True)),
    line(entry(methodName="not a method")),
    line(entry(methodName=None)),
    line(entry(authenticationInfo="alice")),
    line(entry(requestMetadata={"callerIp": 5})),
    line({**entry(), "protoPayload": None}),
    line([entry()]),
    line(gzip.compress(orjson.dumps(entry()))),
    line(b"\xef\xbb\xbf" + orjson.dumps(entry())),
    line(orjson.dumps(entry()).replace(b"alice", b"al\xffice")),
    orjson.dumps({**pubsub_push(entry()), "kind": "Event"}),
    orjson.dumps({"message": {**pubsub_push(entry())["message"], "data": ""}}),
    orjson.dumps({"message": {**pubsub_push(entry())["message"],
                              "data": base64.b64encode(orjson.dumps(entry())).decode()[:-2]}}),
    orjson.dumps(pubsub_push(entry()))[:-5],
])
def test_what_the_full_decoder_reads_otherwise_is_declined(text: bytes) -> None:
    assert fast(text) is None


def test_scan_path_gives_the_same_outcomes_for_declined_and_taken_lines() -> None:
    assert PREFILTER is not None
    for value in (entry(), entry("create", "daemonsets", group="apps"), entry(code=99)):
        text = line(value)
        with_prefilter = list(decode_line(text, ORIGIN, PREFILTER))
        if fast(text):
            assert with_prefilter == fast(text)
        else:  # the line is read as before the fast path: the same matches
            matched = [m.rule.rule_id for o in with_prefilter if type(o) is Decoded
                       for m in RULES.evaluate(o.event)[0]]
            assert matched == full_matches(text)


def test_namespace_and_api_group_requirements_never_drop_an_entry() -> None:
    from kubetrail.rules.prefilter import Prefilter

    only = Prefilter(({"resource": frozenset({"configmaps"}),
                       "namespace": frozenset({"kube-system"}),
                       "api_group": frozenset({"example.io"})},))
    for value in (entry("get", "configmaps", namespace="kube-system", group="example.io"),
                  entry("get", "configmaps", namespace="kube-public")):
        assert prefiltered_push(line(value), ORIGIN, only) == []
    assert prefiltered_push(line(entry("get", "pods")), ORIGIN, only)


def test_a_file_of_push_bodies_scans_to_the_same_findings_as_without_prefilter(
        tmp_path: Path) -> None:
    from tests.rules.test_prefilter import assert_equivalent

    lines = []
    for i, ev in enumerate(events(2500, seed=9, daemonset_every=40)):
        ref = ev["objectRef"]
        value = entry(ev["verb"], ref["resource"], namespace=ref.get("namespace"),
                      group=ref.get("apiGroup") or "core", sub=ref.get("subresource"),
                      user=ev["user"]["username"],
                      ip="34.120.8.17" if i % 97 == 0 else "10.0.0.1",
                      code=7 if i % 89 == 0 else None)
        lines.append(line(value) if i % 53 else line(entry(code=99)))  # some declined
    path = tmp_path / "push.jsonl"
    path.write_bytes(b"".join(lines))
    findings = assert_equivalent([path])
    assert {f["rule_id"] for f in findings} >= {"Kubernetes.DaemonSet.Created"}
