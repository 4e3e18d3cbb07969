"""Kubernetes.DaemonSet.Created: the exact semantics of the issue, beyond the YAML's own Tests."""

from __future__ import annotations

import pytest

from kubetrail.rules import RuleSet, load_rules
from tests.factories import SEED_RULE, ds_manifest, make_event

RULES = RuleSet(load_rules([SEED_RULE]))


def matches(**overrides: object) -> bool:
    found, errors = RULES.evaluate(make_event(**overrides))
    assert errors == []
    return bool(found)


@pytest.mark.parametrize("namespace", ["kube-system", "gke-system", "kube-node-lease",
                                       "kube-public"])
@pytest.mark.parametrize("username", [
    "masterclient", "aksService", "system:kube-controller-manager",
    "system:node:aks-nodepool1-12345678-vmss000000",
    "system:serviceaccount:kube-system:daemon-set-controller",
])
def test_system_principal_in_system_namespace_is_excluded(namespace: str, username: str) -> None:
    assert not matches(namespace=namespace, username=username)


@pytest.mark.parametrize("username", [
    "gke-admin@evil.example", "azure-ops@corp.example", "masterclient2", "Masterclient",
    "aksService ", "aksservice", "system:serviceaccount:default:builder",
    "system:serviceaccount:kube-system", "system:serviceaccount:kube-system:",
    "system:serviceaccount:kube-system-evil:builder", "system:serviceaccounts:kube-system",
    "system:anonymous", "system:unauthenticated", "s\u0443stem:node:x",  # Cyrillic u
    "eks:addon-manager", "", None,
])
def test_look_alikes_in_kube_system_are_findings(username: str | None) -> None:
    assert matches(namespace="kube-system", username=username)


@pytest.mark.parametrize("namespace", ["default", "kube-system-evil", "kube-system ",
                                       "Kube-System", None])
def test_system_principals_outside_system_namespaces_are_findings(namespace: str | None) -> None:
    assert matches(namespace=namespace, username="system:serviceaccount:kube-system:ds-ctrl")


@pytest.mark.parametrize("overrides", [
    {"verb": "update"}, {"verb": "patch", "response_code": 200}, {"resource": "deployments"},
    {"subresource": "status"}, {"stage": "RequestReceived"}, {"stage": "ResponseStarted"},
    {"response_code": 403}, {"response_code": 409}, {"response_code": 500},
    {"request_uri": "/apis/apps/v1/namespaces/default/daemonsets?dryRun=All"},
    {"request_uri": "/apis/apps/v1/namespaces/default/daemonsets?fieldManager=x&dryRun=%41ll"},
])
def test_not_a_completed_successful_persisted_create(overrides: dict[str, object]) -> None:
    assert not matches(**overrides)


@pytest.mark.parametrize("overrides", [
    {"stage": None}, {"response_code": None}, {"response_code": 200},
    # kubectl apply --server-side: a patch that creates (201) is a create.
    {"verb": "patch", "response_code": 201,
     "request_uri": "/apis/apps/v1/namespaces/default/daemonsets/node-agent?fieldManager=kubectl"},
    # Only dryRun=All is a dry run; anything else the API server rejects, so it cannot hide one.
    {"request_uri": "/apis/apps/v1/namespaces/default/daemonsets?dryRun="},
    {"request_uri": "/apis/apps/v1/namespaces/default/daemonsets?xdryRun=All"},
])
def test_completed_creates_match(overrides: dict[str, object]) -> None:
    assert matches(**overrides)


def _match(**overrides: object):  # type: ignore[no-untyped-def]
    found, errors = RULES.evaluate(make_event(**overrides))
    assert errors == [] and len(found) == 1
    return found[0]


def test_title_and_dedup_key() -> None:
    m = _match(username="eve@example.com", namespace="ops", name="miner")
    assert m.title == "[eve@example.com] created DaemonSet [ops/miner]"
    assert m.dedup_key == "Kubernetes.DaemonSet.Created:eve@example.com\x1fops"


def test_title_cannot_carry_control_characters() -> None:
    m = _match(username="eve\n[admin] created nothing\x1b[2J", name="x\r\ny")
    assert "\n" not in m.title and "\x1b" not in m.title and "\r" not in m.title


def test_dedup_keys_of_different_pairs_never_collide() -> None:
    a = _match(username="a:b", namespace="c").dedup_key
    b = _match(username="a", namespace="b:c").dedup_key
    assert a != b


def test_severity_default_is_the_yaml_info_without_manifest() -> None:
    m = _match(request_object=None)
    assert m.severity == "INFO"
    assert m.alert_context["request_object_present"] is False


@pytest.mark.parametrize(("pod_spec", "severity", "reason_key"), [
    ({"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]},
     "HIGH", "privileged_containers"),
    ({"initContainers": [{"name": "i", "image": "x", "securityContext": {"privileged": True}}]},
     "HIGH", "privileged_containers"),
    ({"containers": [{"name": "c", "image": "x",
                      "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]},
     "HIGH", "dangerous_capabilities"),
    ({"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}, "HIGH", "sensitive_host_paths"),
    ({"volumes": [{"name": "s", "hostPath": {"path": "//var/run/./docker.sock"}}]},
     "HIGH", "sensitive_host_paths"),
    ({"volumes": [{"name": "s", "hostPath": {"path": "/run/containerd/containerd.sock"}}]},
     "HIGH", "sensitive_host_paths"),
    ({"volumes": [{"name": "k", "hostPath": {"path": "/var/lib/kubelet/pki"}}]},
     "HIGH", "sensitive_host_paths"),
    ({"volumes": [{"name": "e", "hostPath": {"path": "/opt/../etc/kubernetes/"}}]},
     "HIGH", "sensitive_host_paths"),
    ({"hostNetwork": True}, "MEDIUM", "host_namespaces"),
    ({"hostPID": True}, "MEDIUM", "host_namespaces"),
    ({"volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}]},
     "MEDIUM", "host_path_mounts"),
    ({}, "INFO", "images"),
])
def test_severity_from_the_pod_template(pod_spec: dict[str, object], severity: str,
                                        reason_key: str) -> None:
    m = _match(request_object=ds_manifest(**pod_spec))
    assert m.severity == severity
    assert m.alert_context[reason_key]


def test_risk_lists_images_and_mounts() -> None:
    manifest = ds_manifest(
        containers=[{"name": "a", "image": "evil/miner:1", "securityContext": {"privileged": True}},
                    {"name": "b", "image": "busybox"}],
        volumes=[{"name": "r", "hostPath": {"path": "/"}}, {"name": "c", "configMap": {}}],
        hostPID=True)
    risk = _match(request_object=manifest).alert_context
    assert risk["images"] == ["evil/miner:1", "busybox"]
    assert risk["host_path_mounts"] == ["/"]
    assert risk["privileged_containers"] == ["a"]
    assert risk["host_namespaces"] == ["hostPID"]


def test_garbage_manifest_does_not_break_the_rule() -> None:
    m = _match(request_object={"spec": {"template": {"spec": {"containers": "nope",
                                                              "volumes": [1, None]}}}})
    assert m.severity == "INFO"
