"""The identity, secret, RBAC and exposure rules of the bundled pack: metadata every rule must
carry, and semantics beyond each YAML's own Tests (which `kubetrail test` runs)."""

from __future__ import annotations

from typing import Any

import pytest

from kubetrail.events import CLOUD_BY_LOG_TYPE
from kubetrail.rules import RuleSet, load_rules
from kubetrail.rules.loader import Rule
from kubetrail.rules.network import PUBLIC_SOURCE_IPS
from kubetrail.rules.testing import run_rule_tests
from tests.factories import make_event

ACCESS_RULES = {
    "Kubernetes.API.AnonymousAccess", "Kubernetes.API.Multiple403.PublicIP",
    "Kubernetes.Secret.AccessDenied", "Kubernetes.BulkSecretAccess",
    "Kubernetes.Secrets.DumpAllNamespaces", "Kubernetes.ServiceAccount.TokenCreated",
    "Kubernetes.ClientCertificate.Created", "Kubernetes.System.Principal.PublicIP",
    "Kubernetes.ClusterRoleBinding.Privileged", "Kubernetes.Role.Wildcard",
    "Kubernetes.Role.PodExec", "Kubernetes.Role.WritePermissions",
    "Kubernetes.Role.NodeProxyPermissions", "Kubernetes.SystemRole.Modified",
    "Kubernetes.Service.NodePort.Deployed", "Kubernetes.Ingress.NoTLS",
    "Kubernetes.AdmissionController.Created", "Kubernetes.ConfigMap.PrivateCredentials",
    "Kubernetes.Events.Deleted",
}
THRESHOLDS = {"Kubernetes.API.Multiple403.PublicIP": (10, 30),
              "Kubernetes.Secret.AccessDenied": (20, 15), "Kubernetes.BulkSecretAccess": (15, 30)}
PACK = {r.rule_id: r for r in load_rules() if r.rule_id in ACCESS_RULES}


def one(rule_id: str) -> RuleSet:
    return RuleSet([PACK[rule_id]])


def fires(rule_id: str, **overrides: Any) -> bool:
    matches, errors = one(rule_id).evaluate(make_event(**overrides))
    assert errors == []
    return bool(matches)


def test_every_rule_is_bundled_once() -> None:
    assert set(PACK) == ACCESS_RULES


@pytest.mark.parametrize("rule_id", sorted(ACCESS_RULES))
def test_metadata(rule_id: str) -> None:
    rule: Rule = PACK[rule_id]
    assert rule.enabled and rule.log_types == set(CLOUD_BY_LOG_TYPE)
    assert rule.description and rule.runbook and rule.reference.startswith("https://")
    assert rule.mitre and rule.summary_attributes and "Kubernetes" in rule.tags
    assert rule.requires, "without Requires the prefilter is off for every record"
    assert (rule.threshold, rule.dedup_period_minutes) == THRESHOLDS.get(
        rule_id, (1, rule.dedup_period_minutes))
    positives = {t.log.get("p_log_type") for t in rule.tests if t.expected}
    assert positives == set(CLOUD_BY_LOG_TYPE), "a positive test per cloud"
    assert any(not t.expected for t in rule.tests)
    failed = [r for r in run_rule_tests([rule]) if not r.passed]
    assert failed == []


def test_bulk_secret_access_counts_distinct_names() -> None:
    spec = (PACK["Kubernetes.BulkSecretAccess"].source.read_text())
    assert "\nDistinct: name" in spec


def anonymous(uri: str, **kw: Any) -> dict[str, Any]:
    return {"username": "system:anonymous", "groups": ("system:unauthenticated",),
            "verb": "get", "resource": None, "subresource": None, "namespace": None,
            "api_group": None, "request_uri": uri, "response_code": 200, **kw}


@pytest.mark.parametrize("uri", ["/healthz", "/livez", "/readyz", "/version", "/version/",
                                 "/readyz/etcd", "/livez/poststarthook/rbac", "/healthz?verbose",
                                 "/readyz/informer-sync?exclude=etcd"])
def test_anonymous_probes_are_not_findings(uri: str) -> None:
    assert not fires("Kubernetes.API.AnonymousAccess", **anonymous(uri))


@pytest.mark.parametrize("uri", [
    "/healthz/../api/v1/secrets", "/healthz/./x", "/healthzx", "/%68ealthz", "/healthz//x",
    "/healthz/%2e%2e/api", "//healthz", "/api/v1/namespaces", "/metrics", "/openapi/v2",
    "/version/../apis", "healthz", "", "/HEALTHZ",
])
def test_anything_else_anonymous_is_a_finding(uri: str) -> None:
    assert fires("Kubernetes.API.AnonymousAccess", **anonymous(uri))


def test_anonymous_probe_must_be_a_non_resource_get() -> None:
    assert fires("Kubernetes.API.AnonymousAccess", **anonymous("/healthz", verb="post"))
    assert fires("Kubernetes.API.AnonymousAccess",
                 **anonymous("/healthz", resource="pods", verb="get"))


def test_anonymous_severity_is_critical_beyond_reads() -> None:
    (m,), _ = one("Kubernetes.API.AnonymousAccess").evaluate(make_event(
        **anonymous("/api/v1/namespaces/default/pods", verb="create", resource="pods")))
    assert m.severity == "CRITICAL"


def test_denials_are_keyed_by_the_unforgeable_public_source() -> None:
    rs = one("Kubernetes.API.Multiple403.PublicIP")
    keys = set()
    for forged in ("1.1.1.1", "9.9.9.9", "10.0.0.1"):
        (m,), _ = rs.evaluate(make_event(response_code=403, source_ips=(forged, "34.1.2.3")))
        keys.add(m.dedup_key)
    assert keys == {"Kubernetes.API.Multiple403.PublicIP:34.1.2.3"}
    assert not fires("Kubernetes.API.Multiple403.PublicIP", response_code=403,
                     source_ips=("10.0.0.1",))
    assert not fires("Kubernetes.API.Multiple403.PublicIP", response_code=403,
                     source_ips=("34.1.2.3",), stage="RequestReceived")


@pytest.mark.parametrize(("username", "public"), [
    ("system:node:ip-10-0-1-2.ec2.internal", True), ("system:kube-scheduler", True),
    ("system:serviceaccount:kube-system:coredns", True), ("aksService", True),
    ("masterclient", True), ("system:serviceaccount:default:app", False),
    ("system:anonymous", False), ("aksService ", False), ("alice@example.com", False),
])
def test_system_principal_from_public_address(username: str, public: bool) -> None:
    assert fires("Kubernetes.System.Principal.PublicIP", username=username,
                 source_ips=("34.1.2.3",)) is public
    assert not fires("Kubernetes.System.Principal.PublicIP", username=username,
                     source_ips=("10.1.2.3",))


def binding(role: str, *subjects: tuple[str, str], kind: str = "ClusterRole") -> dict[str, Any]:
    return {"roleRef": {"kind": kind, "name": role},
            "subjects": [{"kind": k, "name": n} for k, n in subjects]}


@pytest.mark.parametrize(("obj", "severity"), [
    (binding("cluster-admin", ("User", "bob")), "HIGH"),
    (binding("cluster-admin", ("Group", "system:authenticated")), "CRITICAL"),
    (binding("view", ("Group", "system:masters")), "HIGH"),
    (binding("admin", ("User", "system:anonymous")), "CRITICAL"),
])
def test_privileged_bindings(obj: dict[str, Any], severity: str) -> None:
    event = make_event(resource="clusterrolebindings", api_group="rbac.authorization.k8s.io",
                       request_object=obj)
    (m,), _ = one("Kubernetes.ClusterRoleBinding.Privileged").evaluate(event)
    assert m.severity == severity


@pytest.mark.parametrize("obj", [
    binding("Cluster-Admin", ("User", "bob")), binding("cluster-admin ", ("User", "bob")),
    binding("admin", ("User", "bob"), kind="Role"), binding("view", ("User", "system:masters")),
    {"roleRef": "cluster-admin"}, None,
])
def test_not_privileged_bindings(obj: Any) -> None:
    assert not fires("Kubernetes.ClusterRoleBinding.Privileged", resource="clusterrolebindings",
                     api_group="rbac.authorization.k8s.io", request_object=obj)


RBAC = {"api_group": "rbac.authorization.k8s.io", "resource": "clusterroles"}


def test_system_role_names_come_from_the_manifest_on_create() -> None:
    obj = {"metadata": {"name": "system:sneaky"}, "rules": []}
    assert fires("Kubernetes.SystemRole.Modified", **RBAC, name=None, request_object=obj)
    assert fires("Kubernetes.SystemRole.Modified", **RBAC, verb="deletecollection", name=None)
    assert not fires("Kubernetes.SystemRole.Modified", **RBAC, name="systemic", verb="delete",
                     response_code=200)
    assert not fires("Kubernetes.SystemRole.Modified", **RBAC, name="system:node", verb="get",
                     response_code=200)


def test_rules_never_raise_on_odd_manifests() -> None:
    odd: list[Any] = [None, {}, {"rules": None}, {"rules": [{"verbs": None}]}, {"data": []},
                      {"spec": "NodePort"}, {"webhooks": [None, {"clientConfig": 5}]},
                      {"roleRef": [], "subjects": "x"}, {"data": {"k": ["AKIA"]}},
                      {"metadata": {"name": ["x"]}}]
    rules = RuleSet(list(PACK.values()))
    for obj in odd:
        for verb in ("create", "update", "patch", "delete", "deletecollection", "get", "list"):
            for resource in ("clusterroles", "rolebindings", "services", "ingresses", "configmaps",
                             "mutatingwebhookconfigurations", "secrets", "events",
                             "certificatesigningrequests", "serviceaccounts"):
                event = make_event(verb=verb, resource=resource, request_object=obj,
                                   username=None, namespace=None, name=None,
                                   source_ips=("34.1.2.3",), response_code=None)
                _, errors = rules.evaluate(event)
                assert errors == []


def test_public_source_requirement_is_what_the_rules_test() -> None:
    for rule_id in ("Kubernetes.API.Multiple403.PublicIP", "Kubernetes.System.Principal.PublicIP"):
        assert PACK[rule_id].requires["source_ips"] is PUBLIC_SOURCE_IPS
