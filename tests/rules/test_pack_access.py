"""The interactive-access rules of the bundled pack: their YAML tests, the streaming semantics
(SPDY create, WebSocket get, ResponseStarted) and the exec command reading under crafted input."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from kubetrail.rules.execs import exec_command, tar_direction, token_reads
from kubetrail.rules.loader import Rule
from tests.factories import make_event
from tests.rules.pack import (
    BY_ID,
    assert_tests_cover_the_clouds,
    match,
    run_yaml_test,
    yaml_test_cases,
)

ACCESS_RULES = ["Kubernetes.Pod.Exec", "Kubernetes.Kubectl.CP.Operation",
                "Kubernetes.Pod.StealServiceAccountToken", "Kubernetes.Pod.PortForward",
                "Kubernetes.Pod.EphemeralContainer.Created"]
TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
EXEC_URI = "/api/v1/namespaces/default/pods/web-1/exec?"


def exec_event(query: str, **overrides: Any) -> Any:
    fields = {"verb": "create", "resource": "pods", "subresource": "exec", "api_group": None,
              "name": "web-1", "stage": "ResponseStarted", "response_code": 101,
              "request_uri": EXEC_URI + query}
    return make_event(**{**fields, **overrides})


def commands(*args: str) -> str:
    return "&".join(f"command={quote(a, safe='')}" for a in args) + "&container=app&stdout=true"


@pytest.mark.parametrize(("rule", "name"), yaml_test_cases(ACCESS_RULES),
                         ids=lambda v: v.rule_id if isinstance(v, Rule) else v)
def test_yaml_tests(rule: Rule, name: str) -> None:
    run_yaml_test(rule, name)


@pytest.mark.parametrize("rule_id", ACCESS_RULES)
def test_yaml_tests_cover_every_cloud_and_the_negatives(rule_id: str) -> None:
    assert_tests_cover_the_clouds(BY_ID[rule_id])


@pytest.mark.parametrize(("overrides", "expected"), [
    ({}, True), ({"verb": "get"}, True), ({"stage": "ResponseComplete"}, True),
    ({"stage": None}, True), ({"stage": "RequestReceived"}, False), ({"stage": "Panic"}, False),
    ({"verb": "list"}, False), ({"response_code": 403}, False), ({"response_code": 401}, False),
    ({"resource": "services"}, False), ({"subresource": "log"}, False),
    ({"namespace": "kube-system", "username": "system:node:ip-10-0-0-1"}, False),
    ({"namespace": "kube-system", "username": "system:anonymous"}, True),
    ({"namespace": "default", "username": "system:node:ip-10-0-0-1"}, True),
])
def test_exec_streaming_semantics(overrides: dict[str, Any], expected: bool) -> None:
    assert bool(match("Kubernetes.Pod.Exec", exec_event(commands("sh"), **overrides))) is expected


def test_exec_severity_and_dedup() -> None:
    m = match("Kubernetes.Pod.Exec", exec_event(commands("sh"), namespace="kube-system"))
    assert m is not None and m.severity == "HIGH"
    a = match("Kubernetes.Pod.Exec", exec_event(commands("sh"), stage="ResponseStarted"))
    b = match("Kubernetes.Pod.Exec", exec_event(commands("sh"), stage="ResponseComplete"))
    assert a and b and a.dedup_key == b.dedup_key and a.severity == "MEDIUM"
    assert m.alert_context["command"] == ["sh"]


@pytest.mark.parametrize("query", [
    commands("cat", TOKEN),
    commands("sh", "-c", f"cat {TOKEN}"),
    commands("sh", "-c", f"cat '{TOKEN}'"),
    commands("sh", "-c", "cat /var/run/secrets/kubernetes.io/serviceaccount/to\\ken"),
    commands("cat", "//var/run/./secrets/kubernetes.io/serviceaccount/token"),
    commands("cat", "/var/run/secrets/kubernetes.io/../kubernetes.io/serviceaccount//token"),
    commands("cat", "/run/secrets/kubernetes.io/serviceaccount/token"),
    commands("cat", "../../var/run/secrets/kubernetes.io/serviceaccount/token"),
    commands("ls", "/var/run/secrets/kubernetes.io/serviceaccount"),
    commands("cat", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"),
    commands("cat", "/var/run/secrets/azure/tokens/azure-identity-token"),
    commands("cat", "/var/run/secrets/tokens/vault-token"),
    commands("sh", "-c", "cat /v?r/run/secrets/kubernetes.io/serviceaccount/t*"),
    commands("sh", "-c", "cat${IFS}/var/run/secrets/kubernetes.io/serviceaccount/token"),
    commands("sh", "-c", "x=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token);echo $x"),
    commands("env", "TOKEN_FILE=/var/run/secrets/kubernetes.io/serviceaccount/token", "sh"),
    commands("sh", "-c", "cat ${AZURE_FEDERATED_TOKEN_FILE}"),
    # the query spelled oddly: +, %-escapes of letters, ; separators, the parameter repeated
    "command=cat&command=%2F%76ar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken",
    "command=sh;command=-c;command=cat+/var/run/secrets/kubernetes.io/serviceaccount/token",
    "command=ls&container=app&command=" + TOKEN,
])
def test_token_reads_are_found_however_spelled(query: str) -> None:
    m = match("Kubernetes.Pod.StealServiceAccountToken", exec_event(query))
    assert m is not None and m.alert_context["token_paths"]


@pytest.mark.parametrize("query", [
    commands("cat", "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"),
    commands("cat", "/var/run/secrets/kubernetes.io/serviceaccount/namespace"),
    commands("ls", "*"), commands("cat", "/etc/hostname"), commands("echo", "token"),
    "xcommand=cat&commands=" + TOKEN, "",
])
def test_not_token_reads(query: str) -> None:
    assert not match("Kubernetes.Pod.StealServiceAccountToken", exec_event(query))


def test_gke_exec_options_body_is_read() -> None:
    event = exec_event("", request_uri=None, request_object={"command": ["cat", TOKEN]})
    assert exec_command(event) == ("cat", TOKEN)
    assert match("Kubernetes.Pod.StealServiceAccountToken", event)


def test_padding_does_not_hide_the_token_and_sizes_stay_bounded() -> None:
    # `cat a a a ... token`: the API server accepts request lines up to 1 MiB
    query = "container=app&" + "command=a&" * 90_000 + "command=" + TOKEN
    assert match("Kubernetes.Pod.StealServiceAccountToken", exec_event(query))
    huge = exec_event("command=" + "x" * 5000 + "&" + "command=a&" * 300_000)
    assert len(exec_command(huge)) == 200_000
    m = match("Kubernetes.Pod.Exec", huge)
    assert m is not None and len(m.alert_context["command"]) == 65
    assert len(m.alert_context["command"][0]) == 513
    assert m.alert_context["command"][-1] == "… 199936 more arguments"
    assert token_reads(("x" * 10_000_000 + TOKEN,)) == []  # beyond any real request


@pytest.mark.parametrize(("args", "direction"), [
    (("tar", "cf", "-", "/data"), "from pod"), (("tar", "-xmf", "-", "-C", "/tmp"), "to pod"),
    (("/bin/tar", "czf", "-", "/x"), "from pod"), (("sh", "-c", "tar xf - -C /"), "to pod"),
    (("busybox", "tar", "-t"), "unknown"), (("tarx", "cf"), None), (("ls", "tar.gz"), None),
    ((), None),
])
def test_tar_direction(args: tuple[str, ...], direction: str | None) -> None:
    assert tar_direction(args) == direction
    m = match("Kubernetes.Kubectl.CP.Operation", exec_event(commands(*args) if args else ""))
    assert (m.alert_context["direction"] if m else None) == direction


def test_cp_and_token_need_exec_not_attach() -> None:
    for rid in ("Kubernetes.Kubectl.CP.Operation", "Kubernetes.Pod.StealServiceAccountToken"):
        query = commands("tar", "cf", "-", TOKEN)
        assert match(rid, exec_event(query))
        assert not match(rid, exec_event(query, subresource="attach"))


def test_port_forward_ports_and_severity() -> None:
    event = exec_event("ports=5432&ports=8080", subresource="portforward", namespace="kube-system")
    m = match("Kubernetes.Pod.PortForward", event)
    assert m is not None and m.alert_context["ports"] == ["5432", "8080"]
    assert m.severity == "MEDIUM"
    assert not match("Kubernetes.Pod.PortForward", exec_event(commands("sh")))


@pytest.mark.parametrize(("overrides", "expected"), [
    ({}, True), ({"verb": "update"}, True), ({"verb": "create"}, False), ({"verb": "get"}, False),
    ({"response_code": 422}, False), ({"stage": "ResponseStarted"}, False),
    ({"subresource": None}, False),
])
def test_ephemeral_container_rule(overrides: dict[str, Any], expected: bool) -> None:
    body = {"spec": {"containers": [{"name": "app", "securityContext": {"privileged": True}}],
                     "ephemeralContainers": [{"name": "dbg", "image": "busybox"}]}}
    event = make_event(**{"verb": "patch", "resource": "pods", "subresource":
                          "ephemeralcontainers", "response_code": 200, "api_group": None,
                          "request_object": body, **overrides})
    m = match("Kubernetes.Pod.EphemeralContainer.Created", event)
    assert bool(m) is expected
    if m:  # the app container's privilege is not the debug container's
        assert m.severity == "MEDIUM"
