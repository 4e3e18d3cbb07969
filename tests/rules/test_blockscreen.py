"""The block screen (rules/blockscreen.py) answers, for a whole block of light events, exactly
what the prefilter's per-event test answers for each: checked with the whole bundled pack on
blocks that mix every value its rules look at, public source addresses of every kind included."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from kubetrail.rules import RuleSet, load_rules
from kubetrail.rules.blockscreen import public_indexes
from kubetrail.rules.network import PUBLIC_SOURCE_IPS
from kubetrail.rules.prefilter import Prefilter

PRIVATE = ["10.0.3.4", "192.168.1.9", "172.16.0.1", "172.31.255.1", "100.64.0.7",
           "100.127.3.3", "127.0.0.1", "169.254.169.254", "0.0.0.0", "::1", "fd00::5"]
PUBLIC = ["8.8.8.8", "172.15.0.1", "172.32.0.1", "100.63.0.1", "100.128.0.1", "11.0.0.1",
          "2606:4700::1", "::ffff:8.8.8.8", "1.1.1.1"]
ODD = ["", "not an address", "10.0.0.1\n8.8.8.8", "8.8.8.8\n10.0.0.1", "10.0.0.1 ", "1O.0.0.1"]
RESOURCES = ["pods", "secrets", "serviceaccounts", "daemonsets", "nodes", "configmaps", "roles",
             "clusterrolebindings", "mutatingwebhookconfigurations", "events", "leases",
             "certificatesigningrequests", "ingresses", "services", "cronjobs", None]
VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", None]
USERS = ["alice", "system:anonymous", "system:node:n1", "system:serviceaccount:kube-system:x",
         "eks:addon-manager", "system:kube-scheduler", None]
BODIES = [None, {"spec": {"hostNetwork": True}}, {"spec": {"containers": [{"name": "c"}]}},
          {"spec": {"securityContext": {"privileged": True}}}, {"x": {"capabilities": 1}}]


@pytest.fixture(scope="module")
def prefilter() -> Prefilter:
    pf = RuleSet(load_rules()).prefilter
    assert pf is not None
    return pf


def _event(rng: random.Random, addresses: list[str]) -> bytes:
    ref: dict[str, Any] = {}
    for key, values in (("resource", RESOURCES), ("subresource", [None, "exec", "token", "log",
                                                                  "proxy", "ephemeralcontainers"]),
                        ("namespace", [None, "kube-system", "default", "kube-public"]),
                        ("apiGroup", [None, "rbac.authorization.k8s.io", "apps",
                                      "admissionregistration.k8s.io", "certificates.k8s.io"])):
        value = rng.choice(values)
        if value is not None:
            ref[key] = value
    event: dict[str, Any] = {"kind": "Event", "objectRef": ref,
                             "responseStatus": {"code": rng.choice([200, 201, 401, 403, 404])}}
    top: list[tuple[str, list[Any]]] = [("verb", VERBS), ("requestObject", BODIES)]
    for key, values in top:
        value = rng.choice(values)
        if value is not None:
            event[key] = value
    user = rng.choice(USERS)
    if user is not None:
        event["user"] = {"username": user}
    if rng.random() < 0.9:
        event["sourceIPs"] = [rng.choice(addresses) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    elif rng.random() < 0.5:
        event["sourceIPs"] = []
    return orjson.dumps(event)


@pytest.mark.parametrize("addresses", [PRIVATE[:1], PRIVATE, PRIVATE + PUBLIC, PUBLIC,
                                       PRIVATE + ODD], ids=["one-private-range", "private",
                                                            "mixed", "public", "odd"])
@pytest.mark.parametrize("seed", range(3))
def test_a_block_gets_the_candidates_each_event_would(prefilter: Prefilter,
                                                      addresses: list[str], seed: int) -> None:
    rng = random.Random(seed)
    for size in (1, 7, 300):
        lines = b"".join(_event(rng, addresses) + b"\n" for _ in range(size))
        events = prefilter.light.decode_buffer(bytearray(b"[" + lines))
        assert events is not None
        expected = [i for i, ev in enumerate(events) if prefilter.event_may_match(ev)]
        assert prefilter.candidates(events) == expected
        # the lenient light events of a line-by-line batch get the same answers
        lenient = [prefilter.light.decode_line(line) for line in lines.splitlines()]
        assert prefilter.candidates(lenient) == expected


def test_a_block_with_a_public_address_asks_those_rules_about_that_event(
        prefilter: Prefilter) -> None:
    def line(username: str, code: int, address: str) -> bytes:
        return orjson.dumps({"kind": "Event", "verb": "get", "user": {"username": username},
                             "objectRef": {"resource": "leases"}, "sourceIPs": [address],
                             "responseStatus": {"code": code}}) + b"\n"

    lines = [line("alice", 200, "10.0.0.1")] * 50 + [
        line("alice", 403, "8.8.8.8"),  # Kubernetes.API.Multiple403.PublicIP
        line("alice", 200, "8.8.8.8"),  # nothing: a public user's usual request
        line("system:node:n1", 200, "100.128.0.1"),  # Kubernetes.System.Principal.PublicIP
        line("system:node:n1", 200, "100.127.0.1"),  # nothing: CGNAT space is not public
        line("alice", 403, "10.0.0.2"),  # nothing: a private 403
    ]
    events = prefilter.light.decode_buffer(bytearray(b"[" + b"".join(lines)))
    assert events is not None
    assert prefilter.candidates(events) == [50, 52]


def test_a_rule_requiring_only_a_public_address_takes_every_event_with_one() -> None:
    pf = Prefilter(({"source_ips": PUBLIC_SOURCE_IPS}, {"resource": frozenset({"pods"})}))
    lines = b"".join(orjson.dumps({"kind": "Event", "objectRef": {"resource": resource},
                                   "sourceIPs": [address]}) + b"\n"
                     for resource in ("pods", "nodes") for address in ("10.0.0.1", "8.8.8.8"))
    events = pf.light.decode_buffer(bytearray(b"[" + lines))
    assert events is not None
    assert pf.candidates(events) == [0, 1, 3] == [
        i for i, ev in enumerate(events) if pf.event_may_match(ev)]


@pytest.mark.parametrize("addresses", [
    [],
    [None, [], ["10.0.0.1"], ["192.168.3.3", "10.1.1.1"], ["127.0.0.1"], ["0.1.2.3"],
     ["169.254.1.1"]],
    [["172.16.0.1"], ["100.64.0.1"], ["10.0.0.1"]],  # private, read the slow way
    [["10.0.0.1"], ["8.8.8.8"], None, ["10.0.0.1", "1.1.1.1"], ["1.1.1.1", "10.0.0.1"]],
    [["10.0.0.1\n8.8.8.8"], ["8.8.8.8\n10.0.0.1"], ["\n10.0.0.1"], ["10.0.0.1"]],
    [["172.15.0.1"], ["100.128.0.1"], ["192.169.0.1"], ["10.0.0.1"]],
    [["172.15.0.1"], ["10.0.0.1"]], [["100.128.0.1"]], [["10.0.0.1", "8.8.8.8"]],
    [["10."], ["1"], ["10"], [""], ["::1"], ["2606:4700::1"]],
    [["10.0.0.1"], 5, "8.8.8.8", [8]],  # (not from a light decode: asked one by one)
])
def test_public_addresses_are_found_exactly(addresses: list[Any]) -> None:
    assert public_indexes(addresses) == [
        i for i, a in enumerate(addresses) if a in PUBLIC_SOURCE_IPS]
