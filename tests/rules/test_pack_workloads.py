"""The workload rules of the bundled pack: their YAML tests, and the shared semantics over every
workload resource, container list, verb and principal."""

from __future__ import annotations

from typing import Any

import pytest

from kubetrail.rules.loader import Rule
from kubetrail.rules.podspec import WORKLOAD_KINDS, host_path_severity, pod_spec
from kubetrail.rules.principals import SYSTEM_NAMESPACES
from tests.factories import make_event
from tests.rules.pack import (
    BY_ID,
    assert_tests_cover_the_clouds,
    match,
    run_yaml_test,
    yaml_test_cases,
)

SPEC_RULES = {
    # rule id -> a pod spec that triggers it
    "Kubernetes.Pod.Privileged.Created": {"containers": [
        {"name": "c", "image": "x", "securityContext": {"privileged": True}}]},
    "Kubernetes.Pod.Dangerous.Capabilities": {"containers": [
        {"name": "c", "image": "x", "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}]},
    "Kubernetes.Pod.HostPath.Volume": {"volumes": [{"name": "v", "hostPath": {"path": "/etc"}}]},
    "Kubernetes.Pod.Host.Network": {"hostNetwork": True},
    "Kubernetes.Pod.Host.PID": {"hostPID": True},
    "Kubernetes.Pod.Host.IPC": {"hostIPC": True},
}
WORKLOAD_RULES = [*SPEC_RULES, "Kubernetes.Pod.SystemNamespace", "Kubernetes.DaemonSet.Created",
                  "Kubernetes.CronJob.CreatedOrModified"]
GROUPS = {"pods": "", "replicationcontrollers": "", "jobs": "batch", "cronjobs": "batch"}


def manifest(resource: str, pod: dict[str, Any]) -> dict[str, Any]:
    pod = {"containers": [{"name": "app", "image": "nginx"}], **pod}
    if resource == "pods":
        return {"kind": "Pod", "spec": pod}
    template = {"template": {"spec": pod}}
    if resource == "cronjobs":
        return {"kind": "CronJob", "spec": {"jobTemplate": {"spec": template}}}
    return {"kind": WORKLOAD_KINDS[resource], "spec": template}


def workload_event(resource: str, pod: dict[str, Any], **overrides: Any) -> Any:
    group = GROUPS.get(resource, "apps")
    fields = {"resource": resource, "api_group": group or None, "name": "w",
              "request_uri": f"/apis/{group}/v1/namespaces/default/{resource}",
              "request_object": manifest(resource, pod)}
    return make_event(**{**fields, **overrides})


@pytest.mark.parametrize(("rule", "name"), yaml_test_cases(WORKLOAD_RULES),
                         ids=lambda v: v.rule_id if isinstance(v, Rule) else v)
def test_yaml_tests(rule: Rule, name: str) -> None:
    run_yaml_test(rule, name)


@pytest.mark.parametrize("rule_id", WORKLOAD_RULES)
def test_yaml_tests_cover_every_cloud_and_the_negatives(rule_id: str) -> None:
    assert_tests_cover_the_clouds(BY_ID[rule_id])


@pytest.mark.parametrize("resource", sorted(WORKLOAD_KINDS))
@pytest.mark.parametrize("rule_id", sorted(SPEC_RULES))
def test_every_workload_resource_is_covered(rule_id: str, resource: str) -> None:
    assert match(rule_id, workload_event(resource, SPEC_RULES[rule_id]))
    assert not match(rule_id, workload_event(resource, {}))


@pytest.mark.parametrize("rule_id", sorted(SPEC_RULES))
@pytest.mark.parametrize(("overrides", "expected"), [
    ({"verb": "patch", "response_code": 201}, True),   # server-side apply that creates
    ({"verb": "patch", "response_code": 200}, True),   # the template changed
    ({"verb": "update", "response_code": 200}, True),
    ({"response_code": 403}, False), ({"response_code": 500}, False),
    ({"stage": "RequestReceived"}, False), ({"stage": "ResponseStarted"}, False),
    ({"request_uri": "/apis/apps/v1/namespaces/default/deployments?dryRun=All"}, False),
    ({"verb": "delete"}, False), ({"verb": "get"}, False), ({"subresource": "status"}, False),
    ({"subresource": "scale"}, False),
    ({"namespace": "kube-system", "username": "system:serviceaccount:kube-system:ctrl"}, False),
    ({"namespace": "kube-system", "username": "system:serviceaccount:kube-system-x:ctrl"}, True),
    ({"namespace": "kube-system", "username": "aksService "}, True),
    ({"namespace": "default", "username": "system:serviceaccount:kube-system:ctrl"}, True),
])
def test_shared_semantics(rule_id: str, overrides: dict[str, Any], expected: bool) -> None:
    event = workload_event("deployments", SPEC_RULES[rule_id], **overrides)
    assert bool(match(rule_id, event)) is expected


def test_pod_updates_cannot_change_security_settings_and_are_not_read() -> None:
    event = workload_event("pods", SPEC_RULES["Kubernetes.Pod.Host.PID"], verb="update",
                           response_code=200)
    assert not match("Kubernetes.Pod.Host.PID", event)


@pytest.mark.parametrize(("rule_id", "expected"), [
    ("Kubernetes.Pod.Privileged.Created", True), ("Kubernetes.Pod.Dangerous.Capabilities", True),
    ("Kubernetes.Pod.HostPath.Volume", False), ("Kubernetes.Pod.Host.PID", False),
])
def test_ephemeral_containers_subresource_judges_only_the_ephemeral_containers(
        rule_id: str, expected: bool) -> None:
    spec = dict(SPEC_RULES[rule_id])
    risky = spec.pop("containers", [{"name": "d", "image": "busybox"}])
    # the pod already had the setting (containers, volumes, host namespaces): not this request
    pod = {**SPEC_RULES[rule_id], "ephemeralContainers": [{"name": "d", "image": "busybox"}]}
    assert not match(rule_id, workload_event("pods", pod, verb="patch", response_code=200,
                                             subresource="ephemeralcontainers"))
    pod = {**spec, "ephemeralContainers": risky}
    found = match(rule_id, workload_event("pods", pod, verb="patch", response_code=200,
                                          subresource="ephemeralcontainers"))
    assert bool(found) is expected


@pytest.mark.parametrize(("path", "severity"), [
    ("/", "CRITICAL"), ("//", "CRITICAL"), ("/var/run/docker.sock", "CRITICAL"),
    ("/run/containerd/containerd.sock", "CRITICAL"), ("/var/run/../run/crio/crio.sock", "CRITICAL"),
    ("/var/lib/kubelet/pki", "CRITICAL"), ("/etc/kubernetes/admin.conf", "CRITICAL"),
    ("/etc", "HIGH"), ("/proc", "HIGH"), ("/root/.ssh", "HIGH"), ("/var/lib/docker", "HIGH"),
    ("/var/run", "HIGH"), ("/opt/../etc/shadow", "HIGH"), ("/var/log/pods", "HIGH"),
    ("/var/log", "MEDIUM"), ("/data", "MEDIUM"), ("/etc-backup", "MEDIUM"),
    ("/var/lib/kubelet-other", "MEDIUM"),
])
def test_host_path_severity(path: str, severity: str) -> None:
    assert host_path_severity(path) == severity
    m = match("Kubernetes.Pod.HostPath.Volume", workload_event(
        "daemonsets", {"volumes": [{"name": "a", "hostPath": {"path": "/data"}},
                                   {"name": "b", "hostPath": {"path": path}}]}))
    assert m is not None and m.severity == severity


@pytest.mark.parametrize(("caps", "severity"), [
    (["SYS_ADMIN"], "HIGH"), (["cap_sys_module"], "HIGH"), (["all"], "HIGH"),
    ([" BPF "], "HIGH"), (["NET_ADMIN"], "MEDIUM"), (["NET_RAW", "CHOWN"], "MEDIUM"),
    (["CHOWN", "NET_BIND_SERVICE"], None), ([], None), ("SYS_ADMIN", None),  # not a list
])
def test_capabilities(caps: Any, severity: str | None) -> None:
    pod = {"initContainers": [{"name": "i", "image": "x",
                               "securityContext": {"capabilities": {"add": caps}}}]}
    m = match("Kubernetes.Pod.Dangerous.Capabilities", workload_event("jobs", pod))
    assert (m.severity if m else None) == severity


def test_the_spec_is_found_by_resource_not_by_shape() -> None:
    decoy = {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}],
             "template": {"spec": {"containers": [{"name": "ok", "image": "x"}]}}}
    assert pod_spec({"spec": decoy}, "pods") is decoy
    assert match("Kubernetes.Pod.Privileged.Created",
                 workload_event("pods", {}, request_object={"spec": decoy}))
    cron = {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostPID": True}}}},
                     "template": {"spec": {}}}}
    assert match("Kubernetes.Pod.Host.PID", workload_event("cronjobs", {}, request_object=cron))


@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "kube-node-lease",
                                       "gke-system"])
def test_system_namespace_rule(namespace: str) -> None:
    rid = "Kubernetes.Pod.SystemNamespace"
    assert match(rid, workload_event("pods", {}, namespace=namespace))
    assert match(rid, workload_event("pods", {}, namespace=namespace, verb="patch",
                                     response_code=201))
    assert not match(rid, workload_event("pods", {}, namespace=namespace, verb="patch",
                                         response_code=200))  # a bare Pod's spec is fixed
    assert match(rid, workload_event("daemonsets", {}, namespace=namespace, verb="patch",
                                     response_code=200))
    assert not match(rid, workload_event("pods", {}, namespace=namespace,
                                         username="system:kube-scheduler"))
    assert match(rid, workload_event("pods", {}, namespace=namespace, username="eks:addon-x"))
    assert not match(rid, workload_event("pods", {}, namespace=f"{namespace}-x"))
    risky = match(rid, workload_event("pods", {"hostPID": True}, namespace=namespace))
    assert risky is not None and risky.severity == "HIGH"


def test_system_namespace_requires_are_the_shared_system_namespaces() -> None:
    assert BY_ID["Kubernetes.Pod.SystemNamespace"].requires["namespace"] == SYSTEM_NAMESPACES


def test_titles_name_the_action_kind_and_object() -> None:
    m = match("Kubernetes.Pod.Privileged.Created",
              workload_event("statefulsets", SPEC_RULES["Kubernetes.Pod.Privileged.Created"],
                             verb="patch", response_code=200, username="eve", namespace="ops"))
    assert m is not None and m.title == "[eve] modified StatefulSet [ops/w] with privileged " \
                                        "containers ['c']"
    m = match("Kubernetes.Pod.Host.Network", workload_event(
        "pods", {"hostNetwork": True}, name=None,
        request_object={"metadata": {"generateName": "miner-"}, "spec": {"hostNetwork": True}}))
    assert m is not None and m.title == "[alice@example.com] created Pod [default/miner-*] " \
                                        "with hostNetwork"


def test_cronjob_rule_severity_follows_the_job_template() -> None:
    rid = "Kubernetes.CronJob.CreatedOrModified"
    assert (m := match(rid, workload_event("cronjobs", {}))) and m.severity == "INFO"
    m = match(rid, workload_event("cronjobs", SPEC_RULES["Kubernetes.Pod.Privileged.Created"],
                                  verb="update", response_code=200))
    assert m is not None and m.severity == "HIGH"
    assert not match(rid, workload_event("jobs", {}))
