"""The `kubetrail` command as a user meets it: real files in, JSON lines out, summary on stderr."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from kubetrail.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples").glob("*.json*"))
SEED_TEST_NAMES = [
    "EKS DaemonSet Created", "AKS DaemonSet Created", "GCP GKE DaemonSet Created",
    "DaemonSet Creation Failed", "Deployment Creation (Not DaemonSet)",
    "DaemonSet Update (Not Create)",
    "System controller creating DaemonSet in kube-system (excluded)",
]
DS_CREATE = (b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete",'
             b'"verb":"create","user":{"username":"USER"},"objectRef":{"resource":"daemonsets",'
             b'"namespace":"default","name":"x"},"responseStatus":{"code":201},'
             b'"stageTimestamp":"2026-11-27T10:00:00.000000Z"}')


def run(*argv: str) -> tuple[int, list[dict[str, object]], str]:
    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    status = main(list(argv), out=out, err=err)
    out.flush()
    lines = out.buffer.getvalue().splitlines()  # type: ignore[attr-defined]
    return status, [orjson.loads(x) for x in lines], err.getvalue()


def test_scan_bundled_samples_finds_the_risky_workloads_and_access() -> None:
    status, findings, err = run("scan", *map(str, SAMPLES))
    assert status == 0
    assert {f["cloud"] for f in findings} >= {"aws", "azure", "gcp"}
    rule_ids = {f["rule_id"] for f in findings}
    assert {"Kubernetes.DaemonSet.Created", "Kubernetes.Pod.Privileged.Created",
            "Kubernetes.Pod.StealServiceAccountToken", "Kubernetes.Pod.Exec"} <= rule_ids
    assert any(f["severity"] == "HIGH" for f in findings)
    assert not any(f["context"]["username"] == "aksService" for f in findings)  # type: ignore[index]
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("kubetrail: records=") and f"findings={len(findings)}" in summary


def test_same_file_twice_with_the_same_dedup_db_publishes_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "dedup.sqlite")
    _, first, _ = run("scan", "--dedup-db", db, *map(str, SAMPLES))
    status, second, err = run("scan", "--dedup-db", db, *map(str, SAMPLES))
    assert first and second == [] and status == 0
    assert f"deduplicated={len(first)}" in err or "deduplicated=" in err


def test_broken_records_are_reported_and_the_rest_is_scanned(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([
        DS_CREATE.replace(b"USER", b"first"),
        b'{"kind":"Event","verb":',
        DS_CREATE.replace(b'"verb":"create"', b'"verb":42'),
        b"\xff\xfe not utf-8",
        DS_CREATE.replace(b"USER", b"last\\u001b[31m"),
    ]) + b"\n")
    def failed_lines(err: str) -> list[str]:
        failures = [line for line in err.splitlines() if ": failed: " in line]
        return [line.split(": failed:")[0].rsplit(":", 1)[1] for line in failures]

    # Strict: every record fully decoded, every defect reported.
    status, findings, err = run("scan", "--no-prefilter", str(path))
    assert status == 0
    assert [f["context"]["username"] for f in findings] == ["first", "last\x1b[31m"]  # type: ignore[index]
    assert failed_lines(err) == ["2", "3", "4"]
    assert "verb" in err.splitlines()[1] and "\x1b" not in err and "failed=3" in err
    # Fast path: same findings and the same failures — the prefilter's light decode is typed,
    # so a wrong type in a field a rule reads is still decoded fully and reported.
    status, fast, err = run("scan", str(path))
    assert (status, fast) == (0, findings)
    assert failed_lines(err) == ["2", "3", "4"]


def test_unreadable_file_is_an_error_exit(tmp_path: Path) -> None:
    status, _, err = run("scan", str(tmp_path / "missing.jsonl"))
    assert status == 1 and "missing.jsonl" in err


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["scan"], out=io.StringIO(), err=io.StringIO())
    assert exc.value.code == 2


def test_kubetrail_test_runs_the_seed_tests() -> None:
    out = io.StringIO()
    assert main(["test"], out=out, err=io.StringIO()) == 0
    lines = out.getvalue().splitlines()
    for name in SEED_TEST_NAMES:
        assert f"PASS Kubernetes.DaemonSet.Created: {name}" in lines
    assert lines[-1].endswith(" passed, 0 failed")


def test_kubetrail_test_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    pack = ROOT / "shared/kubetrail/packs/kubernetes"
    (tmp_path / "k8s_daemonset_created.py").write_text(
        (pack / "k8s_daemonset_created.py").read_text())
    yml = (pack / "k8s_daemonset_created.yml").read_text()
    (tmp_path / "r.yml").write_text(yml.replace("ExpectedResult: false", "ExpectedResult: true", 1))
    out = io.StringIO()
    assert main(["test", str(tmp_path)], out=out, err=io.StringIO()) == 1
    assert "FAIL Kubernetes.DaemonSet.Created: DaemonSet Creation Failed" in out.getvalue()


def test_console_script_end_to_end(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "kubetrail"
    proc = subprocess.run([str(exe), "scan", "-"], input=DS_CREATE.replace(b"USER", b"eve"),
                          capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr
    (finding,) = [orjson.loads(x) for x in proc.stdout.splitlines()]
    assert finding["title"] == "[eve] created DaemonSet [default/x]"
    assert b"findings=1" in proc.stderr
