"""`kubetrail local invoke azure FILE`: files → Event Hub events → the real function on Azurite →
the findings the Event Grid stand-in received, one JSON line each; nothing the second time."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kubetrail.local.azure import bodies, invoke
from tests.emulators.azurite import EventGridStandin, closed_port
from tests.factories import seed_only_config
from tests.functions.azure.records import aks_record, audit_event, daemonset_created

pytestmark = pytest.mark.azure


@pytest.fixture
def settings(azurite: str, eventgrid: EventGridStandin, monkeypatch: pytest.MonkeyPatch,
             tmp_path: Path) -> dict[str, str]:
    """Emulator settings in the environment; the working directory has no .kubetrail/."""
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("KUBETRAIL_")]:
        monkeypatch.delenv(name)
    values = {
        "KUBETRAIL_STORAGE_CONNECTION_STRING": azurite,
        "KUBETRAIL_DEDUP_TABLE": "dedup" + uuid.uuid4().hex[:12],
        "KUBETRAIL_DEADLETTER_QUEUE": "dl-" + uuid.uuid4().hex[:12],
        "KUBETRAIL_EVENTGRID_ENDPOINT": eventgrid.endpoint,
        "KUBETRAIL_EVENTGRID_KEY": eventgrid.key,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KUBETRAIL_CONFIG", str(seed_only_config(tmp_path)))  # the seed rule alone
    return values


def run(*files: Path) -> tuple[int, list[dict[str, object]], str]:
    out, err = io.StringIO(), io.StringIO()
    status = invoke(list(files), out, err)
    return status, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_findings_are_printed_once_and_the_same_file_again_prints_nothing(
        settings: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "hub-body.json"
    path.write_text(json.dumps({"records": [
        daemonset_created("alice@example.com"), daemonset_created("bob@example.com", "web"),
        aks_record(audit_event("alice@example.com", verb="get"))]}))
    status, findings, err = run(path)
    assert status == 0, err
    assert [(f["context"]["username"], f["cloud"], f["cluster"]) for f in findings] == [
        ("alice@example.com", "azure", "AKS-PROD"), ("bob@example.com", "azure", "AKS-PROD")]
    assert "records=3" in err and "findings=2" in err
    assert run(path)[:2] == (0, [])
    assert os.environ["KUBETRAIL_DEDUP_TABLE"] == settings["KUBETRAIL_DEDUP_TABLE"]


def test_raw_records_are_wrapped_and_broken_lines_are_dead_lettered(
        settings: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join([json.dumps(daemonset_created("carol@example.com")),
                               '{"records": [', json.dumps(daemonset_created("dave@example.com"))]))
    assert len(bodies(path)) == 2  # the broken line as it is, the two records in one body
    status, findings, err = run(path)
    assert status == 0, err
    assert sorted(f["context"]["username"] for f in findings) == ["carol@example.com",
                                                                  "dave@example.com"]
    assert "failed=1" in err


def test_settings_come_from_the_env_file_that_make_emulators_writes(
        settings: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".kubetrail").mkdir()
    (tmp_path / ".kubetrail" / "azure.env").write_text(
        "# comment\n" + "".join(f"{k}='{v}'\n" for k, v in settings.items()))
    for name in settings:
        monkeypatch.delenv(name)
    path = tmp_path / "one.json"
    path.write_text(json.dumps(daemonset_created("erin@example.com")))
    status, findings, err = run(path)
    assert (status, [f["context"]["username"] for f in findings]) == (0, ["erin@example.com"]), err


def test_without_emulator_settings_it_says_how_to_start_them(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("KUBETRAIL_")]:
        monkeypatch.delenv(name)
    status, findings, err = run(tmp_path / "whatever.json")
    assert (status, findings) == (2, [])
    assert "make emulators" in err


def test_an_unreachable_event_grid_fails_the_invocation(
        settings: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBETRAIL_EVENTGRID_ENDPOINT", f"http://127.0.0.1:{closed_port()}/api/events")
    path = tmp_path / "one.json"
    path.write_text(json.dumps(daemonset_created("frank@example.com")))
    status, findings, err = run(path)
    assert (status, findings) == (1, [])
    assert "kubetrail:" in err


def test_the_kubetrail_command_runs_it(settings: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "cli.json"
    path.write_text(json.dumps({"records": [daemonset_created("grace@example.com")]}))
    cmd = [sys.executable, "-m", "kubetrail.cli", "local", "invoke", "azure", str(path)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["context"]["username"] == "grace@example.com"
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert (again.returncode, again.stdout) == (0, "")
