"""The rules configuration file: validation that names the key, enable/disable by rule and tag,
overrides, and allowlists whose exact semantics a crafted request cannot widen."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from kubetrail.cli import main
from kubetrail.errors import ConfigError
from kubetrail.rules import RuleSet, load_rules
from kubetrail.rules.config import (
    ENV_VAR,
    configured_rules,
    load_config,
    parse_config,
    rules_for_function,
)
from tests.factories import ds_manifest, make_event

ALL = load_rules(include_disabled=True)
DS = "Kubernetes.DaemonSet.Created"


def configured(text: str) -> RuleSet:
    return RuleSet([r for r in parse_config(yaml.safe_load(text)).apply(ALL) if r.enabled])


def ids(text: str) -> set[str]:
    return {r.rule_id for r in configured(text).rules}


def ds_matches(rules: RuleSet, **overrides: Any) -> bool:
    found, errors = rules.evaluate(make_event(**overrides))
    assert errors == []
    return any(m.rule.rule_id == DS for m in found)


@pytest.mark.parametrize(("text", "key"), [
    ("[]", "the file must be a mapping"),
    ("rule: {}", "config: rule: unknown key"),
    ("rules: {Kubernetes.Nope: {enabled: false}}", "rules.Kubernetes.Nope: no loaded rule"),
    ("rules: {Kubernetes.Pod.Exec: {enable: false}}", "rules.Kubernetes.Pod.Exec.enable: unknown"),
    ("rules: {Kubernetes.Pod.Exec: {enabled: 'no'}}", "rules.Kubernetes.Pod.Exec.enabled: must"),
    ("rules: {Kubernetes.Pod.Exec: {severity: SEVERE}}", "rules.Kubernetes.Pod.Exec.severity"),
    ("rules: {Kubernetes.Pod.Exec: {dedup_period_minutes: 0}}", ".dedup_period_minutes: must"),
    ("rules: {Kubernetes.Pod.Exec: {dedup_period_minutes: true}}", ".dedup_period_minutes: must"),
    ("rules: {Kubernetes.Pod.Exec: {allowlist: [{user: [a]}]}}", ".allowlist[0].user: unknown"),
    ("rules: {Kubernetes.Pod.Exec: {allowlist: [{users: []}]}}", ".allowlist[0].users: must"),
    ("rules: {Kubernetes.Pod.Exec: {allowlist: [{users: a}]}}", ".allowlist[0].users: must"),
    ("rules: {Kubernetes.Pod.Exec: {allowlist: [{users: [\"a\\x1b\"]}]}}", ".users: must"),
    ("rules: {Kubernetes.Pod.Exec: {allowlist: [{source_cidrs: [10.0.0.1/8]}]}}",
     ".allowlist[0].source_cidrs[0]: 10.0.0.1/8 has host bits set"),
    ("allowlist: [{}]", "allowlist[0]: must be a mapping"),
    ("tags: {Workloads: false}", "tags.Workloads: must be {enabled: true|false}"),
    ("tags: {Nope: {enabled: false}}", "tags.Nope: no loaded rule has this tag"),
])
def test_errors_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(yaml.safe_load(text)).apply(ALL)
    assert key in str(info.value)


def test_file_errors_carry_the_path(tmp_path: Path) -> None:
    path = tmp_path / "kubetrail.yml"
    path.write_text("rules: {X: {enabled: maybe}}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and "rules.X.enabled" in str(info.value)
    path.write_text("rules: [\n")
    with pytest.raises(ConfigError, match="unreadable"):
        load_config(path)


def test_enable_and_disable_by_tag_and_rule() -> None:
    everything = ids("{}")
    assert len(everything) == len(ALL)
    no_access = ids("tags: {Interactive Access: {enabled: false}}")
    assert "Kubernetes.Pod.Exec" not in no_access and DS in no_access
    assert ids("tags: {Interactive Access: {enabled: false}}\n"
               "rules: {Kubernetes.Pod.Exec: {enabled: true}}") == no_access | {
        "Kubernetes.Pod.Exec"}
    # a disabled tag wins over an enabled one on the same rule
    assert DS not in ids("tags: {Kubernetes: {enabled: true}, Persistence: {enabled: false}}")
    assert ids(f"rules: {{{DS}: {{enabled: false}}}}") == everything - {DS}
    assert configured_rules(ALL, None) == [r for r in ALL if r.enabled]


def test_overrides_fix_severity_and_period() -> None:
    rules = configured(f"rules: {{{DS}: {{severity: low, dedup_period_minutes: 5}}}}")
    (ds,) = [r for r in rules.rules if r.rule_id == DS]
    assert (ds.severity, ds.dedup_period_minutes, ds.dynamic_severity) == ("LOW", 5, None)
    found, _ = rules.evaluate(make_event(request_object=ds_manifest(hostPID=True)))
    assert {m.severity for m in found if m.rule.rule_id == DS} == {"LOW"}


def test_users_and_namespaces_are_exact() -> None:
    rules = configured(f"rules: {{{DS}: {{allowlist: [{{users: [ci@corp.example]}}, "
                       "{namespaces: [sandbox]}]}}")
    assert not ds_matches(rules, username="ci@corp.example")
    assert not ds_matches(rules, namespace="sandbox")
    for user in ("ci@corp.example ", "CI@corp.example", "ci@corp.example.evil", "xci@corp.example"):
        assert ds_matches(rules, username=user)
    for ns in ("sandbox-2", "Sandbox", None):
        assert ds_matches(rules, namespace=ns)


def test_an_entry_needs_every_key_it_names() -> None:
    rules = configured("allowlist: [{users: [ci], namespaces: [ci]}]")
    assert not ds_matches(rules, username="ci", namespace="ci")
    assert ds_matches(rules, username="ci", namespace="prod")
    assert ds_matches(rules, username="eve", namespace="ci")


def test_source_cidrs_need_every_source_ip() -> None:
    rules = configured("allowlist: [{source_cidrs: [10.0.0.0/8, 'fd00::/8']}]")
    assert not ds_matches(rules, source_ips=("10.1.2.3",))
    assert not ds_matches(rules, source_ips=("10.1.2.3", "fd00::1"))
    assert not ds_matches(rules, source_ips=("::ffff:10.9.9.9",))
    # a forged X-Forwarded-For cannot vouch for the real, foreign address
    assert ds_matches(rules, source_ips=("10.1.2.3", "203.0.113.7"))
    for ips in ((), ("not-an-ip",), ("10.1.2.3/8",), ("11.0.0.1",)):
        assert ds_matches(rules, source_ips=ips)


def test_images_need_every_image_of_the_manifest() -> None:
    rules = configured("allowlist: [{images: ['registry.corp.example/', 'busybox:1.36']}]")
    ok = [{"name": "a", "image": "registry.corp.example/agent:1"}, {"name": "b",
                                                                  "image": "busybox:1.36"}]
    assert not ds_matches(rules, request_object=ds_manifest(containers=ok))
    for bad in ("registry.corp.example.evil.io/agent", "busybox:1.36-evil", "busybox",
                "evil.io/registry.corp.example/x"):
        mixed = [*ok, {"name": "c", "image": bad}]
        assert ds_matches(rules, request_object=ds_manifest(containers=mixed))
    init = ds_manifest(containers=ok, initContainers=[{"name": "i", "image": "evil/x"}])
    assert ds_matches(rules, request_object=init)
    assert ds_matches(rules, request_object=None)  # nothing to vouch for


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


def test_rules_list_takes_the_config(tmp_path: Path) -> None:
    path = tmp_path / "kubetrail.yml"
    path.write_text("tags: {Workloads: {enabled: false}}\n"
                    f"rules: {{{DS}: {{severity: CRITICAL}}}}\n")
    status, out, _ = cli("rules", "list", "--format", "json", "--config", str(path))
    assert status == 0
    by_id = {r["rule_id"]: r for r in orjson.loads(out)}
    assert by_id[DS]["severity"] == "CRITICAL" and by_id[DS]["enabled"] is True
    assert by_id["Kubernetes.Pod.Host.PID"]["enabled"] is False
    path.write_text("rules: {Kubernetes.Pod.Exec: {severity: urgent}}\n")
    status, _, err = cli("rules", "list", "--config", str(path))
    assert status == 1 and "rules.Kubernetes.Pod.Exec.severity" in err


def test_rules_list_json_fields_and_table() -> None:
    status, out, _ = cli("rules", "list", "--format", "json")
    listed = orjson.loads(out)
    assert status == 0 and len(listed) == len(ALL)
    for r in listed:
        assert {"rule_id", "severity", "enabled", "log_types", "tags", "reports",
                "threshold"} <= set(r)
        assert r["log_types"] == ["Amazon.EKS.Audit", "Azure.MonitorActivity", "GCP.AuditLog"]
        assert r["reports"]["MITRE ATT&CK"]
    by_id = {r["rule_id"]: r for r in listed}
    assert (by_id["Kubernetes.BulkSecretAccess"]["distinct"],
            by_id["Kubernetes.BulkSecretAccess"]["threshold"]) == ("namespace+name", 15)
    assert by_id[DS]["distinct"] is None
    status, out, _ = cli("rules", "list")
    lines = out.splitlines()
    assert status == 0 and lines[0].startswith("RULE ID") and len(lines) == len(ALL) + 1
    assert any(line.startswith(DS) and " yes " in line for line in lines)


def test_scan_applies_the_config(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete",'
                       b'"verb":"create","user":{"username":"ci"},"sourceIPs":["10.0.0.5"],'
                       b'"objectRef":{"resource":"daemonsets","namespace":"default","name":"x"},'
                       b'"responseStatus":{"code":201}}\n')
    config = tmp_path / "kubetrail.yml"
    config.write_text(f"rules: {{{DS}: {{allowlist: [{{users: [ci]}}]}}}}\n")
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert main(["scan", str(events)], out=out, err=io.StringIO()) == 0
    out.flush()
    assert out.buffer.getvalue().count(b"\n") == 1  # type: ignore[attr-defined]
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert main(["scan", "--config", str(config), str(events)], out=out, err=io.StringIO()) == 0
    out.flush()
    assert out.buffer.getvalue() == b""  # type: ignore[attr-defined]


def test_functions_read_the_packaged_file_kubetrail_config_names(tmp_path: Path) -> None:
    (tmp_path / "kubetrail-config.yml").write_text(f"rules: {{{DS}: {{enabled: false}}}}\n")
    bundled = {r.rule_id for r in rules_for_function({}, tmp_path)}
    assert bundled == {r.rule_id for r in ALL if r.enabled}
    assert {r.rule_id for r in rules_for_function({ENV_VAR: " "}, tmp_path)} == bundled
    configured_ids = {r.rule_id for r in rules_for_function(
        {ENV_VAR: "kubetrail-config.yml"}, tmp_path)}
    assert configured_ids == bundled - {DS}
    absolute = {r.rule_id for r in rules_for_function(
        {ENV_VAR: str(tmp_path / "kubetrail-config.yml")}, tmp_path / "elsewhere")}
    assert absolute == configured_ids
    (tmp_path / "bad.yml").write_text("rules: {Kubernetes.Pod.Exec: {severity: loud}}\n")
    for bad in ("/etc/passwd", "missing.yml", "bad.yml"):
        with pytest.raises(ConfigError):
            rules_for_function({ENV_VAR: bad}, tmp_path)


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_each_cloud_passes_the_terraform_variable_to_its_function(cloud: str) -> None:
    root = Path(__file__).resolve().parents[2]
    settings = (root / "functions" / cloud / f"{cloud}_settings.py").read_text()
    assert "rules_for_function(os.environ, FUNCTION_DIR)" in settings
    tf = "".join(p.read_text() for p in (root / "infra" / cloud).glob("*.tf"))
    assert re.search(r'KUBETRAIL_CONFIG\s*=\s*var\.rules_config', tf)
    assert 'variable "rules_config"' in tf
