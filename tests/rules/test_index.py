"""RequiresIndex answers exactly the rules whose every Requires holds, in rule order."""

from __future__ import annotations

import itertools
import random

from kubetrail import record
from kubetrail.rules import load_rules
from kubetrail.rules.index import RequiresIndex, requires_ok
from tests.factories import make_event

VALUES = {
    "verb": ["get", "list", "create", "update", "patch", "delete", "deletecollection", None],
    "resource": ["pods", "secrets", "roles", "clusterrolebindings", "daemonsets", "events",
                 "deployments",
                 "serviceaccounts", "certificatesigningrequests", "configmaps", None],
    "subresource": [None, "exec", "attach", "token", "portforward", "ephemeralcontainers", "log"],
    "namespace": [None, "default", "kube-system", "gke-system"],
    "api_group": [None, "rbac.authorization.k8s.io", "apps", "certificates.k8s.io"],
    "username": ["alice", "system:anonymous", "system:node:n1",
                 "system:serviceaccount:kube-system:x", None],
    "response_code": [None, 200, 401, 403, 404],
    "source_ips": [(), ("10.0.0.1",), ("34.120.8.17",), ("8.8.8.8", "10.0.0.2"), ("::1",)],
    # the tests `request_object: [keys]` and `username: [non-system]` of the pack
    "request_object": [None, {"spec": {"hostPID": True}}, {"metadata": {"name": "x"}},
                       {"spec": {"containers": [{"securityContext": {"privileged": True}}]}}],
}


def test_index_picks_exactly_the_rules_whose_requires_hold() -> None:
    rules = load_rules()
    index = RequiresIndex(rules)
    rng = random.Random(5)
    picked_any = 0
    for _ in range(4000):
        event = make_event(**{f: rng.choice(v) for f, v in VALUES.items()})
        expected = [r for r in rules if requires_ok(r, event)]
        got = index.fitting(event)
        assert [r.rule_id for r in got] == [r.rule_id for r in expected], event
        picked_any += bool(got)
    assert picked_any > 100  # the draws do reach the rules


def test_index_keeps_rules_without_requires_and_rule_order() -> None:
    rules = load_rules()
    mixed = [record.replace(rules[0], rule_id="no-requires", requires={}), *rules]
    index = RequiresIndex(mixed)
    for verb, resource in itertools.product(["get", "create"], ["pods", "secrets"]):
        event = make_event(verb=verb, resource=resource)
        got = [r.rule_id for r in index.fitting(event)]
        assert got[0] == "no-requires"
        assert got == [r.rule_id for r in mixed if requires_ok(r, event)]
