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
    # a public source matters to the 403 count, or for a system principal (username: [system])
    (b'{"kind":"Event","verb":"get","user":{"username":"alice"},"sourceIPs":["8.8.8.8"]}', False),
    (b'{"kind":"Event","verb":"get","user":{"username":"system\\u003anode:n1"},'
     b'"sourceIPs":["8.8.8.8"]}', True),
    (b'{"kind":"Event","verb":"get","user":{"username":"system:node:n1","username":"alice"},'
     b'"sourceIPs":["8.8.8.8"]}', False),
    (b'{"kind":"Event","verb":"get","user":{"username":"alice","username":"system:node:n1"},'
     b'"sourceIPs":["8.8.8.8"]}', True),
    (b'{"kind":"Event","verb":"get","user":{"username":"system:anonymous"},'
     b'"sourceIPs":["8.8.8.8"]}', True),  # (the anonymous-access rule)
    (b'{"kind":"Event","verb":"get","sourceIPs":["8.8.8.8"]}', False),  # no user: no principal
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


# --- Requires that the light decode cannot read alone: `username: [non-system]` and
# `request_object: [keys]` (kubetrail.rules.requirements) ---------------------------------------

def _hidden_key_records() -> list[tuple[bytes, str | None]]:
    """(record text, the rule it must fire or None) for workload writes whose body keys are
    spelled every way JSON allows, and token requests by every kind of principal."""
    from tests.rules.test_pack_evasions import aks, eks, gke

    privileged = {"spec": {"containers": [{"name": "c", "image": "busybox",
                                           "securityContext": {"privileged": True}}]}}
    plain = {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    out: list[tuple[bytes, str | None]] = []

    def add(record: dict[str, object], fires: str | None, *swap: tuple[bytes, bytes]) -> None:
        text = orjson.dumps(record)
        for old, new in swap:
            assert old in text
            text = text.replace(old, new)
        out.append((text, fires))

    priv = "Kubernetes.Pod.Privileged.Created"
    add(eks("create", "pods", "p1", namespace="ns-p1", body=privileged, code=201), priv)
    add(eks("create", "pods", "p2", namespace="ns-p2", body=privileged, code=201), priv,
        (b'"privileged"', b'"\\u0070rivileged"'))
    add(eks("create", "pods", "p3", namespace="ns-p3", body=privileged, code=201), priv,
        (b'"privileged"', b'"privilege\\u0064"'))
    add(eks("create", "pods", "p4", namespace="ns-p4", body=plain, code=201), None)
    add(eks("create", "pods", "p5", namespace="ns-p5", body=None, code=201), None)  # Metadata
    add(eks("create", "pods", "p6", namespace="ns-p6", body=plain, code=201), None,
        (b'"requestObject":{', b'"requestObject":null,"x":{'))
    # a duplicated requestObject counts with its last value
    body = b'"requestObject":'
    add(eks("create", "pods", "p7", namespace="ns-p7", body=plain, code=201), None,
        (body, body + orjson.dumps(privileged) + b"," + body))
    add(eks("create", "pods", "p8", namespace="ns-p8", body=privileged, code=201), priv,
        (body, body + orjson.dumps(plain) + b"," + body))
    # the key's name elsewhere in the record: no key of the body
    add(eks("create", "pods", "privileged", namespace="ns-x", body=plain, code=201), None)
    # a JSON patch and a server-side apply that creates
    add(eks("patch", "deployments", "d1", namespace="ns-d1", group="apps", body=[
            {"op": "add", "path": "/spec/template/spec/hostPID", "value": True}]),
        "Kubernetes.Pod.Host.PID", (b"/hostPID", b"/host\\u0050ID"))
    add(eks("patch", "pods", "p9", namespace="ns-p9", body={"spec": {"hostNetwork": True}},
            code=201),
        "Kubernetes.Pod.Host.Network", (b'"hostNetwork"', b'"hostNetwor\\u006B"'))
    # AKS: the Event is a JSON string in the record; its escapes are escaped once more
    add(aks(eks("create", "pods", "p10", namespace="ns-p10", body=privileged, code=201)), priv,
        (b'\\"privileged\\"', b'\\"\\\\u0070rivileged\\"'))
    volumes = {"spec": {"volumes": [{"name": "v", "hostPath": {"path": "/etc"}}]}}
    add(aks(eks("create", "pods", "p11", namespace="ns-p11", body=volumes, code=201)),
        "Kubernetes.Pod.HostPath.Volume",
        (b'\\"hostPath\\"', b'\\"\\\\u0068ostPath\\"'))
    add(aks(eks("create", "pods", "p12", namespace="ns-p12", body=plain, code=201)), None)
    # GKE: the byte prefilter
    add(gke("io.k8s.core.v1.pods.create", "core/v1/namespaces/ns-p13/pods/p13",
            {"spec": {"hostIPC": True}}), "Kubernetes.Pod.Host.IPC",
        (b'"hostIPC"', b'"\\u0068ostIPC"'))
    add(gke("io.k8s.core.v1.pods.create", "core/v1/namespaces/ns-p14/pods/p14", plain), None)
    # token requests: only non-system principals, as the light decode reads the username
    token = "Kubernetes.ServiceAccount.TokenCreated"
    for i, (user, fires) in enumerate([
            ("system:node:ip-10-0-1-2.ec2.internal", None),
            ("system:serviceaccount:kube-system:x", None),
            ("system:serviceaccount:default:builder", token),
            ("system:anonymous", token),
            ("aksService ", token)]):
        add(eks("create", "serviceaccounts", f"sa{i}", None, code=201, subresource="token",
                user=user), fires)
    add(eks("create", "serviceaccounts", "sa5", None, code=201, subresource="token",
            user="system:node:n1"), None, (b'"system:node:n1"', b'"system\\u003anode:n1"'))
    # a duplicated key counts with its last value
    add(eks("create", "serviceaccounts", "sa6", None, code=201, subresource="token",
            user="system:node:n1"), token,
        (b'"username":"system:node:n1"', b'"username":"system:node:n1","username":"mallory"'))
    add(eks("create", "serviceaccounts", "sa9", None, code=201, subresource="token",
            user="mallory"), None,
        (b'"username":"mallory"', b'"username":"mallory","username":"system:node:n1"'))
    add(eks("create", "serviceaccounts", "sa7", None, code=201, subresource="token",
            user="system:node:n1"), token, (b'"username":"system:node:n1"', b'"username":null'))
    add(eks("create", "serviceaccounts", "sa8", None, code=201, subresource="token",
            user="x"), None, (b'"username":"x"', b'"username":42'))  # a wrong type: reported
    return out


@pytest.mark.parametrize("defect", [b"", b"not json\n"], ids=["blocks", "line-by-line"])
def test_body_keys_and_non_system_principals_are_exact(tmp_path: Path, defect: bytes) -> None:
    records = _hidden_key_records()
    path = tmp_path / "hidden-keys.jsonl"
    path.write_bytes(defect + b"".join(text + b"\n" for text, _ in records))
    findings = assert_equivalent([path])
    names = [_object_name(text) for text, _ in records]
    expected = sorted((rule, name) for (_, rule), name in zip(records, names, strict=True) if rule)
    fired = sorted((f["rule_id"], name) for f in findings for name in names
                   if f"/{name}]" in str(f["title"]))
    assert fired == expected


def _object_name(text: bytes) -> str:
    """The name of the object a crafted record is about."""
    record = orjson.loads(text)
    if "protoPayload" in record:
        return str(record["protoPayload"]["resourceName"].rsplit("/", 1)[1])
    if "properties" in record:
        record = orjson.loads(record["properties"]["log"])
    return str(record["objectRef"]["name"])


def test_body_keys_and_non_system_principals_narrow_the_candidates() -> None:
    from kubetrail.sources.blocks import Scanned, scan_blocks

    pf = RuleSet(load_rules()).prefilter
    assert pf is not None
    records = [(text, rule) for text, rule in _hidden_key_records()
               if text.startswith(b'{"kind":"Event"') and b'"username":42' not in text]
    lines = b"".join(text + b"\n" for text, _ in records)
    (scanned,) = scan_blocks(io.BytesIO(lines), 1 << 20, pf)
    assert isinstance(scanned, Scanned)
    picked = {i for i, _ in scanned.candidates}
    for i, (text, rule) in enumerate(records):
        assert i in picked or rule is None, text
    # Metadata-level and key-less pod creates (the requestObject a duplicated key holds last
    # counts; a key's name elsewhere in the record does not), token requests by system
    # principals: none
    dropped = [text for i, (text, _) in enumerate(records) if i not in picked]
    assert [_object_name(t) for t in dropped] == [
        "p4", "p5", "p6", "p7", "privileged", "sa0", "sa1", "sa5", "sa9"]
    # the same answers from a block's light events, a line's, and a line's text
    events = pf.light.decode_buffer(bytearray(b"[" + lines))
    assert events is not None
    assert pf.candidates(events) == sorted(picked)
    assert [pf.event_may_match(pf.light.decode_line(text)) for text, _ in records] == [
        i in picked for i in range(len(records))]
    assert [pf.may_match_event(text) for text, _ in records] == [
        i in picked for i in range(len(records))]
