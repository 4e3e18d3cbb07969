"""panther-analysis's own Tests, unchanged, through `kubetrail test --panther-root`: all 257 of
rules/kubernetes_rules and rules/aws_eks_rules, and all 25 of rules/gcp_k8s_rules."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from kubetrail.cli import main

LINE = re.compile(r"^(PASS|FAIL) [\w.]+: .+$")


def run_test(*args: str) -> tuple[int, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["test", *args], out, err)
    return status, out.getvalue().splitlines()


def test_kubernetes_and_eks_rules_pass_unchanged(panther_analysis: Path) -> None:
    rules = panther_analysis / "rules"
    status, lines = run_test("--panther-root", str(panther_analysis),
                             str(rules / "kubernetes_rules"), str(rules / "aws_eks_rules"))
    assert lines[-1] == "257 passed, 0 failed", "\n".join(lines)
    assert status == 0 and all(LINE.match(line) for line in lines[:-1])
    assert sum(line.startswith("PASS Kubernetes.Pod.Host.PID: ") for line in lines) == 5


def test_gcp_k8s_rules_pass_unchanged(panther_analysis: Path) -> None:
    status, lines = run_test("--panther-root", str(panther_analysis),
                             str(panther_analysis / "rules" / "gcp_k8s_rules"))
    assert (status, lines[-1]) == (0, "25 passed, 0 failed"), "\n".join(lines)


def test_the_root_also_comes_from_the_environment(panther_analysis: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBETRAIL_PANTHER_ROOT", str(panther_analysis))
    status, lines = run_test(str(panther_analysis / "rules" / "aws_eks_rules"))
    assert (status, lines[-1]) == (0, "20 passed, 0 failed")


def test_a_wrong_expectation_fails_with_its_reason(panther_analysis: Path, tmp_path: Path
                                                   ) -> None:
    src = panther_analysis / "rules" / "kubernetes_rules"
    for name in ("k8s_pod_host_pid.py", "k8s_pod_host_pid.yml"):
        shutil.copy(src / name, tmp_path / name)
    yml = tmp_path / "k8s_pod_host_pid.yml"
    yml.write_text(yml.read_text().replace("ExpectedResult: true", "ExpectedResult: false", 1))
    status, lines = run_test("--panther-root", str(panther_analysis), str(tmp_path))
    assert status == 1 and lines[-1] == "4 passed, 1 failed"
    fail = next(i for i, line in enumerate(lines) if line.startswith("FAIL "))
    assert lines[fail + 1] == "    expected False, rule() returned True"


def test_without_the_root_the_helpers_are_missing(panther_analysis: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBETRAIL_PANTHER_ROOT", raising=False)
    out, err = io.StringIO(), io.StringIO()
    assert main(["test", str(panther_analysis / "rules" / "aws_eks_rules")], out, err) == 1
    assert "give --panther-root" in err.getvalue()
