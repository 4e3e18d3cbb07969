"""`kubetrail scan --format auto|json|table|ocsf` and `--version`, as a user runs them: whole
processes, stdout to a pipe or to a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "samples").glob("*.json*"))
KUBETRAIL = [sys.executable, "-m", "kubetrail.cli"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def scan(*flags: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*KUBETRAIL, "scan", *flags, *map(str, SAMPLES)], capture_output=True,
                          check=True, timeout=120)


def on_a_terminal(*flags: str, columns: int = 160) -> str:
    """stdout on a pseudo-terminal of `columns` columns (stderr still a pipe)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([*KUBETRAIL, "scan", *flags, *map(str, SAMPLES)], stdout=follower,
                            stderr=subprocess.PIPE, env=env)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    assert proc.stderr is not None
    assert b"\r" not in proc.stderr.read()  # no progress line when stderr is not a terminal
    return b"".join(chunks).decode("utf-8")


def test_piped_output_is_json_lines_as_before() -> None:
    auto, json_lines = scan(), scan("--format", "json")
    assert auto.stdout == json_lines.stdout
    docs = [orjson.loads(line) for line in auto.stdout.splitlines()]
    assert len(docs) >= 10 and all(d["kind"] == "finding" for d in docs)
    assert b"kubetrail: records=" in auto.stderr and b"\r" not in auto.stderr


def test_a_terminal_gets_a_coloured_table() -> None:
    screen = on_a_terminal()
    lines = [ANSI.sub("", line) for line in screen.replace("\r\n", "\n").splitlines() if line]
    assert lines[0].split()[:4] == ["SEVERITY", "EVENT", "TIME", "CLUSTER"]
    assert any(line.startswith("HIGH") and "Kubernetes.DaemonSet.Created" in line
               for line in lines)
    assert "\x1b[1;31mHIGH" in screen  # severity in colour
    assert not any(line.lstrip().startswith("{") for line in lines)


def test_a_narrow_terminal_keeps_the_title_readable() -> None:
    lines = [ANSI.sub("", x) for x in on_a_terminal(columns=80).splitlines() if x.strip()]
    assert all(len(line.rstrip()) <= 80 for line in lines)
    assert any("DaemonSet.Created" in line for line in lines)


def test_table_on_request_even_when_piped_without_colour() -> None:
    out = scan("--format", "table").stdout.decode()
    assert "\x1b[" not in out and out.splitlines()[0].split()[0] == "SEVERITY"


def test_ocsf_lines_are_detection_findings() -> None:
    models = pytest.importorskip("py_ocsf_models.events.findings.detection_finding")
    ocsf = [orjson.loads(x) for x in scan("--format", "ocsf").stdout.splitlines()]
    native = [orjson.loads(x) for x in scan("--format", "json").stdout.splitlines()]
    assert len(ocsf) == len(native)
    for doc, finding in zip(ocsf, native, strict=True):
        model = models.DetectionFinding.model_validate(doc)
        assert model.finding_info.uid == finding["id"]
        assert model.finding_info.analytic is not None
        assert model.finding_info.analytic.uid == finding["rule_id"]


def test_version() -> None:
    from kubetrail import __version__

    done = subprocess.run([*KUBETRAIL, "--version"], capture_output=True, check=True)
    assert done.stdout.decode().strip() == f"kubetrail {__version__}"


def test_an_unknown_format_is_a_usage_error() -> None:
    done = subprocess.run([*KUBETRAIL, "scan", "--format", "xml", str(SAMPLES[0])],
                          capture_output=True)
    assert done.returncode == 2 and b"--format" in done.stderr
