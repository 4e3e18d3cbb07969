"""The rules a deployed function loads: bundled packs + KUBETRAIL_RULES (or the packaged
kubetrail_rules/), relative to the function's package directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetrail.errors import ConfigError
from kubetrail.rules.deployed import deployed_rules
from kubetrail.rules.loader import load_rules
from tests.panther.conftest import write_rule

NATIVE = "def rule(event):\n    return event.verb == 'create'\n"


def ids(base: Path, env: dict[str, str]) -> list[str]:
    return sorted(r.rule_id for r in deployed_rules(base, env))


def test_settings_packaged_default_and_replacement(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bundled = sorted(r.rule_id for r in load_rules())
    assert ids(tmp_path, {}) == bundled
    (tmp_path / "kubetrail_rules").mkdir()
    write_rule(tmp_path / "kubetrail_rules", "Packaged.Rule", NATIVE)
    assert ids(tmp_path, {}) == sorted([*bundled, "Packaged.Rule"])
    assert ids(tmp_path, {"KUBETRAIL_RULES": ""}) == ids(tmp_path, {})
    (tmp_path / "mine").mkdir()
    write_rule(tmp_path / "mine", "Kubernetes.DaemonSet.Created", NATIVE,
               log_types="[Amazon.EKS.Audit]")
    write_rule(tmp_path / "mine", "Mine.Other", NATIVE)
    rules = deployed_rules(tmp_path, {"KUBETRAIL_RULES": "mine"})
    assert sorted(r.rule_id for r in rules) == sorted([*bundled, "Mine.Other"])
    (daemonset,) = [r for r in rules if r.rule_id == "Kubernetes.DaemonSet.Created"]
    assert daemonset.log_types == {"Amazon.EKS.Audit"}
    assert "replaces the bundled one" in capsys.readouterr().err


def test_a_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such rule file"):
        deployed_rules(tmp_path, {"KUBETRAIL_RULES": "nope"})
    with pytest.raises(ConfigError, match="no global_helpers"):
        deployed_rules(tmp_path, {"KUBETRAIL_PANTHER_ROOT": "nope"})
