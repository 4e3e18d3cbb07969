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


# -- reliability (issue 9) -----------------------------------------------------------------------

PACK = ROOT / "shared/kubetrail/packs/kubernetes"


def user_of(finding: dict[str, object]) -> object:
    return finding["context"]["username"]  # type: ignore[index]


def test_a_deeply_nested_record_costs_only_itself(tmp_path: Path) -> None:
    depth = 5000  # deeper than the recursion limit: the fast decoder raised RecursionError
    poison = tmp_path / "a.jsonl"  # JSON lines: a good line, then the poison
    poison.write_bytes(DS_CREATE.replace(b"USER", b"first") + b"\n"
                       + DS_CREATE.replace(b"USER", b"deep")[:-1] + b',"requestObject":'
                       + b'{"a":' * depth + b"1" + b"}" * depth + b"}\n")
    good = tmp_path / "b.jsonl"
    good.write_bytes(DS_CREATE.replace(b"USER", b"good") + b"\n")
    for flags in ([], ["--no-prefilter"]):
        status, findings, err = run("scan", *flags, str(poison), str(good))
        assert status == 0, err
        assert [user_of(f) for f in findings] == ["first", "good"]
        assert "PublishError" not in err and "a.jsonl" in err and "failed=1" in err


def test_event_times_outside_the_calendar_cost_only_their_record(tmp_path: Path) -> None:
    """The decoders refuse times outside years 1000-8999 (the record's failure, with its reason);
    the pipeline clamps dedup windows as well (tests/test_pipeline.py), so neither end of the
    calendar can stop a batch."""
    path = tmp_path / "edge.jsonl"
    path.write_bytes(b"\n".join([
        DS_CREATE.replace(b"USER", b"late").replace(b"2026-11-27T10:00:00.000000Z",
                                                    b"9999-12-31T23:59:59.999999Z"),
        DS_CREATE.replace(b"USER", b"good"),
    ]) + b"\n")
    status, findings, err = run("scan", str(path))
    assert status == 0, err
    assert [(user_of(f), f["event_time"]) for f in findings] == [
        ("good", "2026-11-27T10:00:00Z")]
    assert "edge.jsonl:1" in err and "out of range" in err and "failed=1" in err


def test_a_raising_rule_is_a_rule_error_finding_next_to_the_others(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "boom.yml").write_text(
        "AnalysisType: rule\nRuleID: Test.Boom\nDisplayName: Boom\nEnabled: true\n"
        "Filename: boom.py\nLogTypes: [Amazon.EKS.Audit]\nSeverity: Low\n"
        "DedupPeriodMinutes: 60\n")
    (rules / "boom.py").write_text(
        "def rule(event):\n    return event.request_object['spec'] is not None\n")
    path = tmp_path / "ds.jsonl"
    path.write_bytes(b"".join(DS_CREATE.replace(b"USER", u) + b"\n" for u in (b"a", b"b")))
    status, findings, err = run("scan", "--rules", str(PACK), "--rules", str(rules), str(path))
    assert status == 0, err
    assert [(f["kind"], f["rule_id"]) for f in findings] == [
        ("rule_error", "Test.Boom"), ("finding", "Kubernetes.DaemonSet.Created"),
        ("finding", "Kubernetes.DaemonSet.Created")]  # the second rule_error is deduplicated
    error = findings[0]
    assert (error["function"], error["error_type"], error["origin"]) == (
        "rule", "TypeError", f"{path}:1")
    assert "rule Test.Boom rule() raised TypeError" in err
    assert "rule_errors=2 rule_error_findings=1" in err and "findings=3" in err


HOSTILE = "a\u009b31m\u0085b\u202ec\u2066d\u2028e\u2029f\u200fg"


def test_hostile_characters_reach_stdout_escaped_one_line_per_finding(tmp_path: Path) -> None:
    escaped = HOSTILE.encode("ascii", "backslashreplace").replace(b"\\x", b"\\u00")
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(DS_CREATE.replace(b"USER", escaped).replace(
        b'"name":"x"', b'"name":"' + escaped + b'"').replace(
        b'"verb"', b'"userAgent":"' + escaped + b'","verb"') + b"\n"
        + DS_CREATE.replace(b"USER", b"next") + b"\n")
    exe = Path(sys.executable).parent / "kubetrail"
    proc = subprocess.run([str(exe), "scan", str(path)], capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode("utf-8")
    lines = text.splitlines()
    assert len(lines) == 2 and text.count("\n") == 2
    first = orjson.loads(lines[0])
    ctx = first["context"]
    assert ctx["username"] == ctx["userAgent"] == ctx["name"] == HOSTILE
    for c in "\u009b\u0085\u202e\u2066\u2028\u2029\u200f":
        assert c not in text
        assert f"\\u{ord(c):04x}" in lines[0]


def test_stderr_messages_neutralize_the_same_characters(tmp_path: Path) -> None:
    path = tmp_path / f"x{HOSTILE}.jsonl"
    path.write_bytes(b'{"kind":"Event","verb":\n')
    status, _, err = run("scan", str(path))
    assert status == 0 and len(err.splitlines()) == 2  # the failure, the summary
    for c in "\u009b\u0085\u202e\u2066\u2028\u2029\u200f":
        assert c not in err
    assert "\\x9b" in err and "\\u202e" in err and "\\u2028" in err


@pytest.mark.parametrize(("argv", "option"), [
    (["--max-inflate", "0"], "--max-inflate"),
    (["--max-inflate", "-1"], "--max-inflate"),
    (["--max-inflate", "-5"], "--max-inflate"),
    (["--max-inflate", "64MiB"], "--max-inflate"),
    (["--max-inflate", "1.5"], "--max-inflate"),
    (["--max-inflate", ""], "--max-inflate"),
    (["--dedup-db", ""], "--dedup-db"),
    (["--rules", ""], "--rules"),
    ([""], "FILE"),
])
def test_nonsensical_option_values_are_usage_errors(argv: list[str], option: str,
                                                    tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "kubetrail"
    sample = [] if argv == [""] else [str(SAMPLES[0])]
    proc = subprocess.run([str(exe), "scan", *argv, *sample], capture_output=True, check=False,
                          cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == b"" and f"argument {option}".encode() in proc.stderr
