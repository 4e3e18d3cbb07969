"""`make package-aws|gcp RULES=... PANTHER_ROOT=...`: the zip carries the extra rules and the
Panther root, and the function, unzipped, loads them with no setting at all."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from kubetrail.panther.helpers import panther_root
from kubetrail.rules.deployed import deployed_rules
from kubetrail.rules.loader import load_rules

ROOT = Path(__file__).resolve().parents[2]


def unzip(zip_path: Path, target: Path) -> set[str]:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(target)
        return set(zf.namelist())


def expected_ids(panther_analysis: Path) -> set[str]:
    """Bundled rules, each replaced by Panther's rule of the same RuleID (disabled ones too)."""
    panther = load_rules([panther_analysis / "rules" / "kubernetes_rules"], include_disabled=True,
                         panther_root=panther_root(panther_analysis))
    bundled = {r.rule_id for r in load_rules()} - {r.rule_id for r in panther}
    return bundled | {r.rule_id for r in panther if r.enabled}


def extras(panther_analysis: Path) -> list[str]:
    return ["--rules", str(panther_analysis / "rules" / "kubernetes_rules"),
            "--panther-root", str(panther_analysis)]


def test_the_aws_package_carries_and_loads_panther_rules(panther_analysis: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "aws.zip"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "aws" / "package.py"), "--out",
                    str(out), "--sources-only", *extras(panther_analysis)],
                   check=True, capture_output=True, timeout=300)
    names = unzip(out, tmp_path / "x")
    assert "kubetrail_rules/0_kubernetes_rules/k8s_pod_host_pid.yml" in names
    assert "kubetrail_panther/global_helpers/panther_kubernetes_helpers.py" in names
    assert "kubetrail_panther/data_models/gcp_data_model.py" in names
    assert "kubetrail_panther/LICENSE.txt" in names
    assert not any("/rules/" in n and "aws_eks" in n for n in names)
    rules = {r.rule_id: r for r in deployed_rules(tmp_path / "x", env={}) if r.enabled}
    assert "Kubernetes.Pod.Host.PID" in rules and set(rules) == expected_ids(panther_analysis)
    assert rules["Kubernetes.DaemonSet.Created"].source.is_relative_to(tmp_path / "x")
    same = deployed_rules(tmp_path / "x", env={"KUBETRAIL_RULES": "", "KUBETRAIL_PANTHER_ROOT": ""})
    assert sorted(r.rule_id for r in same if r.enabled) == sorted(rules)  # empty: the package


def test_the_gcp_package_carries_panther_rules(panther_analysis: Path, tmp_path: Path) -> None:
    out = tmp_path / "gcp.zip"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gcp" / "package.py"), str(out),
                    *extras(panther_analysis)], check=True, capture_output=True, timeout=300)
    unzip(out, tmp_path / "x")
    rules = deployed_rules(tmp_path / "x", env={})
    assert {r.rule_id for r in rules if r.enabled} == expected_ids(panther_analysis)
