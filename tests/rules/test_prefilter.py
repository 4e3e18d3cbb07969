"""The prefilter is exact: scanning with and without it gives identical findings, over the
whole test corpus, generated streams, and records crafted to hide the needles."""

from __future__ import annotations

import base64
import gzip
import io
from pathlib import Path

import orjson
import pytest

from kubetrail.cli import main
from kubetrail.rules import RuleSet, load_rules
from tests.factories import SEED_RULE
from tests.synthetic import write_jsonl

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def scan(files: list[Path], *extra: str) -> tuple[list[dict[str, object]], str]:
    out, err = io.StringIO(), io.StringIO()
    out.buffer = io.BytesIO()  # type: ignore[misc]
    assert main(["scan", *extra, *map(str, files)], out=out, err=err) == 0
    findings = [orjson.loads(line) for line in out.buffer.getvalue().splitlines()]  # type: ignore[attr-defined]
    return findings, err.getvalue()


def timeless(finding: dict[str, object]) -> dict[str, object]:
    """Records without a timestamp are dated by the wall clock, which moves between two scans."""
    return {k: v for k, v in finding.items() if k not in ("id", "event_time", "first_seen")}


def assert_equivalent(files: list[Path], *extra: str) -> list[dict[str, object]]:
    fast, _ = scan(files, *extra)
    slow, _ = scan(files, "--no-prefilter", *extra)
    assert [timeless(f) for f in fast] == [timeless(f) for f in slow]
    return fast


def test_seed_prefilter_is_derived_from_requires() -> None:
    pf = RuleSet(load_rules([SEED_RULE])).prefilter
    assert pf is not None
    assert pf.requirements == ({"verb": {"create", "patch"}, "resource": {"daemonsets"}},)
    assert pf.alternatives == (((b"daemonsets",), (b"create", b"patch")),)
    assert not pf.may_match(b'{"verb":"get","objectRef":{"resource":"pods"}}')
    assert pf.may_match(b'{"verb":"create","objectRef":{"resource":"daemonsets"}}')
    assert pf.may_match(b'{"verb":"create","objectRef":{"resource":"daemon\\u0073ets"}}')
    assert pf.may_match(b'{"verb":"\\u0063reate","objectRef":{"resource":"pods"}}')
    # Go escapes & < > in every query string: those hide no letter of a needle.
    assert not pf.may_match(b'{"verb":"list","requestURI":"/api/v1/pods?limit=500\\u0026w=1"}')


@pytest.mark.parametrize(("text", "may"), [
    (b'{"kind":"Event","verb":"create","objectRef":{"resource":"daemonsets"}}', True),
    (b'{"kind":"Event","verb":"create","objectRef":{"resource":"pods"}}', False),
    (b'{"kind":"Event","verb":"get","objectRef":{"resource":"daemonsets"}}', False),
    (b'{"kind":"Event","verb":"patch","objectRef":{"resource":"daemonsets"}}', True),
    (b'{"kind":"Event","verb":"cr\\u0065ate","objectRef":{"resource":"daemon\\u0073ets"}}', True),
    # a duplicated key counts with its last value, as for the full decoder
    (b'{"kind":"Event","verb":"get","objectRef":{"resource":"daemonsets"},"verb":"create"}', True),
    (b'{"kind":"Event","verb":"create","objectRef":null,"objectRef":{"resource":"daemonsets"}}',
     True),
    (b'{"kind":"Event","verb":"create","objectRef":{"resource":"daemonsets"},"objectRef":{}}',
     False),
    # a wrong type: let the decoder say what is wrong
    (b'{"kind":"Event","verb":42,"objectRef":{"resource":"pods"}}', True),
    (b'{"kind":"Event","verb":"get","objectRef":[]}', True),
    (b'{"kind":"Event","verb":"get"', True),  # cut: let the decoder report it
    (b'{"kind":"Event","verb":"get","p_log_type":"GCP.AuditLog"}', True),
    (b'{"kind":"Event","verb":"get","p_log_type":null}', True),
    (b'{"kind":"Pod","verb":"get"}', True),  # not an audit Event: the decoder says why
    (b'{"kind":"Event","verb":"list","requestObject":{"spec":{"resourceAttributes":{"verb":"create",'
     b'"resource":"daemonsets"}}}}', False),  # nested look-alikes are not the request
])
def test_event_prefilter_reads_fields_like_the_decoder(text: bytes, may: bool) -> None:
    pf = RuleSet(load_rules([SEED_RULE])).prefilter
    assert pf is not None and pf.may_match_event(text) is may


def test_no_prefilter_when_a_rule_has_no_requires(tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text("RuleID: R\nFilename: r.py\nLogTypes: [GCP.AuditLog]\n"
                                    "Severity: Low\n")
    (tmp_path / "r.py").write_text("def rule(e):\n    return True\n")
    assert RuleSet(load_rules([tmp_path, *load_rules()[0].source.parent.glob("*.yml")])
                   ).prefilter is None


def test_corpus_and_samples_give_identical_findings() -> None:
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".json", ".jsonl"))
    files += sorted(p for p in SAMPLES.glob("*") if p.suffix in (".json", ".jsonl", ".gz"))
    assert files
    assert assert_equivalent(files)


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_stream_gives_identical_findings(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "stream.jsonl"
    write_jsonl(str(path), 6000, seed=seed, daemonset_every=150)
    assert len(assert_equivalent([path])) >= 3


def test_needles_hidden_by_escapes_or_envelopes_are_still_found(tmp_path: Path) -> None:
    ev = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "stage": "ResponseComplete",
          "verb": "create", "user": {"username": "mallory"},
          "objectRef": {"resource": "daemonsets", "namespace": "kube-system", "name": "x"},
          "responseStatus": {"code": 201}}
    text = orjson.dumps(ev).decode()
    escaped = text.replace('"daemonsets"', '"daemon\\u0073ets"').replace('"create"',
                                                                         '"\\u0063reate"')
    log_event = {"id": "1", "timestamp": 1764244800000,
                 "message": text.replace("mallory", "mallory2")}
    data_message = {"messageType": "DATA_MESSAGE", "owner": "111122223333",
                    "logGroup": "/aws/eks/prod/cluster", "logStream": "kube-apiserver-audit-1",
                    "subscriptionFilters": ["kubetrail"], "logEvents": [log_event]}
    awslogs = {"awslogs": {"data": base64.b64encode(gzip.compress(orjson.dumps(data_message)))
                           .decode()}}
    path = tmp_path / "hidden.jsonl"
    path.write_text("\n".join([escaped, orjson.dumps(awslogs).decode()]) + "\n")
    findings = assert_equivalent([path])
    assert sorted(f["context"]["username"] for f in findings  # type: ignore[index]
                  if f["rule_id"] == "Kubernetes.DaemonSet.Created") == ["mallory", "mallory2"]


def test_rules_requiring_other_fields_get_their_own_light_decode(tmp_path: Path) -> None:
    """Two rules, on subresource and on namespace + apiGroup: the light types are made from
    their Requires, and the candidates of either rule are found."""
    rules = {
        "token": ("{resource: [serviceaccounts], subresource: [token]}",
                  "e.resource == 'serviceaccounts' and e.subresource == 'token' "
                  "and e.verb == 'create' and e.namespace == 'kube-system'"),
        "lease": ("{namespace: [payments], api_group: [coordination.k8s.io]}",
                  "e.namespace == 'payments' and e.api_group == 'coordination.k8s.io' "
                  "and e.username == 'system:kube-scheduler'"),
    }
    for name, (requires, condition) in rules.items():
        (tmp_path / f"{name}.yml").write_text(
            f"RuleID: Test.{name}\nFilename: {name}.py\nEnabled: true\n"
            f"LogTypes: [Amazon.EKS.Audit]\nSeverity: Low\nRequires: {requires}\n")
        (tmp_path / f"{name}.py").write_text(f"def rule(e):\n    return {condition}\n")
    pf = RuleSet(load_rules([tmp_path])).prefilter
    assert pf is not None
    light = pf.light.decode_line(b'{"kind":"Event","verb":42}')  # verb: no rule requires it
    assert sorted(type(light).__struct_fields__) == ["kind", "objectRef", "p_log_type"]
    assert sorted(type(light.objectRef).__struct_fields__) == [
        "apiGroup", "namespace", "resource", "subresource"]
    stream = tmp_path / "stream.jsonl"
    write_jsonl(str(stream), 6000, seed=3)
    fast = assert_equivalent([stream], "--rules", str(tmp_path))
    assert {f["rule_id"] for f in fast} == {"Test.token", "Test.lease"}  # type: ignore[misc]


def test_escapes_that_build_escapes_one_level_down_may_match() -> None:
    pf = RuleSet(load_rules()).prefilter
    assert pf is not None
    # "\\u005cu0064aemonsets" in a record's text is "\\u0064aemonsets" in an embedded JSON
    # string, which that JSON reads as "daemonsets"; so are "u", the hex digits and the
    # backslash spelled by escapes.
    for hidden in (rb"\u005cu0064aemonsets", rb"\\\u0075" + b"0064aemonsets",
                   rb"\\u\u0030064aemonsets", rb"\\u00\u0036" + b"4aemonsets"):
        assert pf.may_match(b'{"log":"{\\"verb\\":\\"create\\",\\"resource\\":\\"' + hidden
                            + b'\\"}"}'), hidden
    # Go's \u0026 (&) in a query string spells nothing a rule reads
    assert not pf.may_match(b'{"requestURI":"/api/v1/pods?a=1\\u0026b=2","verb":"get"}')


def _access_stream(tmp_path: Path) -> Path:
    """EKS Events and GKE LogEntries for the rules that require username, response_code or a
    public source address, with the values hidden every way JSON allows."""
    lines: list[bytes] = []
    for i in range(60):
        ip = ["34.120.8.17", "10.0.3.4", "2600:1f18::7", "::ffff:34.1.2.3", "203.0.113.9"][i % 5]
        user = ["system:anonymous", "alice@example.com", "system:node:ip-10-0-1-2.ec2.internal",
                "system:serviceaccount:kube-system:x"][i % 4]
        code = [200, 401, 403, 404][i % 4 if i % 3 else 2]
        ev = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "stage": "ResponseComplete",
              "auditID": f"id-{i}", "verb": "list", "user": {"username": user},
              "sourceIPs": ["10.9.9.9", ip], "requestURI": "/api/v1/namespaces/default/pods",
              "objectRef": {"resource": "pods", "namespace": "default", "apiVersion": "v1"},
              "responseStatus": {"code": code},
              "stageTimestamp": f"2026-11-27T12:{i // 60:02d}:{i % 60:02d}.000000Z"}
        text = orjson.dumps(ev)
        if i % 7 == 0:  # an address character spelled as an escape
            text = text.replace(b'"34.', b'"\\u00334.').replace(b'"2600', b'"\\u0032600')
        if i % 11 == 0:
            text = text.replace(b"system:anonymous", b"system:\\u0061nonymous")
        lines.append(text)
        status = {} if code == 200 else {"code": {401: 16, 403: 7, 404: 5}[code]}
        entry = {"protoPayload": {
            "serviceName": "k8s.io", "methodName": "io.k8s.core.v1.nodes.list",
            "resourceName": "core/v1/nodes", "status": status,
            "authenticationInfo": {"principalEmail": user},
            "requestMetadata": {"callerIp": ip}},
            "insertId": f"g-{i}", "timestamp": f"2026-11-27T13:00:{i % 60:02d}Z",
            "resource": {"type": "k8s_cluster", "labels": {"cluster_name": "gke-prod"}}}
        text = orjson.dumps(entry)
        if i % 7 == 3:
            text = text.replace(b'"34.', b'"\\u0033\\u0034.')
        lines.append(text)
    path = tmp_path / "access.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_username_response_code_and_public_source_requirements_are_exact(tmp_path: Path) -> None:
    findings = assert_equivalent([_access_stream(tmp_path)])
    fired = {f["rule_id"] for f in findings}
    assert {"Kubernetes.API.AnonymousAccess", "Kubernetes.API.Multiple403.PublicIP",
            "Kubernetes.System.Principal.PublicIP"} <= fired


@pytest.mark.parametrize(("text", "may"), [
    (b'{"kind":"Event","verb":"get","user":{"username":"system:anonymous"}}', True),
    (b'{"kind":"Event","verb":"get","user":{"username":"system:anonymous "}}', False),
    (b'{"kind":"Event","verb":"get","user":{"username":"alice"},"sourceIPs":["10.0.0.1"]}', False),
    (b'{"kind":"Event","verb":"get","user":{"username":"alice"},"sourceIPs":["8.8.8.8"],'
     b'"responseStatus":{"code":403}}', True),
    (b'{"kind":"Event","verb":"get","user":{"username":"alice"},"sourceIPs":["10.0.0.1"],'
     b'"responseStatus":{"code":403}}', False),
    (b'{"kind":"Event","verb":"get","user":{"username":"system:node:n1"},'
     b'"sourceIPs":["8.8.8.8","10.0.0.1"]}', True),
    # wrong types: the full decoder reports them
    (b'{"kind":"Event","verb":"get","user":null}', True),
    (b'{"kind":"Event","verb":"get","responseStatus":{"code":"403"}}', True),
    (b'{"kind":"Event","verb":"get","responseStatus":{"code":403.0}}', True),
    (b'{"kind":"Event","verb":"get","sourceIPs":"8.8.8.8"}', True),
    (b'{"kind":"Event","verb":"get","sourceIPs":[8]}', True),
])
def test_event_prefilter_reads_user_status_and_addresses(text: bytes, may: bool) -> None:
    pf = RuleSet(load_rules()).prefilter
    assert pf is not None
    assert pf.may_match_event(text) is may


@pytest.mark.parametrize(("text", "may"), [
    (b'{"protoPayload":{"authenticationInfo":{"principalEmail":"bob"},'
     b'"requestMetadata":{"callerIp":"10.1.2.3"},"methodName":"io.k8s.core.v1.pods.get"}}', False),
    (b'{"protoPayload":{"authenticationInfo":{"principalEmail":"bob"},'
     b'"requestMetadata":{"callerIp":"34.1.2.3"},"methodName":"io.k8s.core.v1.pods.get"}}', True),
    (b'{"protoPayload":{"requestMetadata":{"callerIp":"\\u0033\\u0034.1.2.3"},'
     b'"methodName":"io.k8s.core.v1.pods.get"}}', True),
    (b'{"protoPayload":{"authenticationInfo":{"principalEmail":"system:anonymous"},'
     b'"requestMetadata":{"callerIp":"10.1.2.3"},"methodName":"io.k8s.core.v1.pods.get"}}', True),
])
def test_byte_prefilter_finds_public_addresses_and_usernames(text: bytes, may: bool) -> None:
    pf = RuleSet(load_rules()).prefilter
    assert pf is not None
    assert pf.may_match(text) is may
