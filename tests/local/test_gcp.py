"""`kubetrail local invoke gcp FILE`: every accepted file shape reaches the real function on the
emulators, each finding that arrived on the findings topic is printed once, and delivering the
same file again prints nothing."""

from __future__ import annotations

import base64
import gzip
import io
from pathlib import Path

import orjson
import pytest
from cloudevents.conversion import to_json

from kubetrail.cli import main as cli
from kubetrail.errors import ConfigError
from kubetrail.local import gcp as local_gcp
from tests.emulators.gcloud import GcloudEmulators
from tests.functions.gcp.helpers import cloud_event, daemonset_entry

pytestmark = pytest.mark.gcp


@pytest.fixture
def emulator_env(gcloud_emulators: GcloudEmulators, monkeypatch: pytest.MonkeyPatch,
                 tmp_path: Path) -> GcloudEmulators:
    monkeypatch.chdir(tmp_path)  # no .kubetrail/gcp.env here: the environment decides
    for key, value in gcloud_emulators.env().items():
        monkeypatch.setenv(key, value)
    for key in ("FINDINGS_TOPIC", "DEADLETTER_TOPIC", "AUDIT_TOPIC", "DEDUP_COLLECTION"):
        monkeypatch.setenv(f"KUBETRAIL_{key}", gcloud_emulators.unique(key.lower()))
    return gcloud_emulators


def run(*files: Path) -> tuple[int, list[dict[str, object]], str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli(["local", "invoke", "gcp", *map(str, files)], out, err)
    return status, [orjson.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def users(findings: list[dict[str, object]]) -> list[str]:
    return [f["context"]["username"] for f in findings]  # type: ignore[index]


def test_log_entries_are_delivered_as_the_sink_and_eventarc_would(
        emulator_env: GcloudEmulators, tmp_path: Path) -> None:
    broken = orjson.dumps(daemonset_entry(user="eve@example.com"))[:-3]
    other = daemonset_entry(user="mallory@example.com")
    other["protoPayload"]["serviceName"] = "container.googleapis.com"
    lines = [orjson.dumps(e) for e in (
        daemonset_entry(user="alice@example.com"), daemonset_entry(user="bob@example.com"),
        daemonset_entry(user="alice@example.com", when="2026-11-27T12:20:00Z"), other)]
    path = tmp_path / "gke-audit.jsonl"
    path.write_bytes(b"\n".join([*lines, broken]) + b"\n")
    status, findings, err = run(path)
    assert status == 0
    assert sorted(users(findings)) == ["alice@example.com", "bob@example.com"]
    assert all(f["cloud"] == "gcp" and f["cluster"] == "gke-prod" for f in findings)
    assert "delivered 5 message(s); 2 finding(s)" in err and "1 dead-lettered" in err
    assert "invalid LogEntry JSON" in err
    assert run(path)[1] == []  # delivering it again prints nothing


def test_cloudevent_push_body_bare_message_array_and_gzip_files(
        emulator_env: GcloudEmulators, tmp_path: Path) -> None:
    files = {
        "cloudevent.json": to_json(cloud_event(daemonset_entry(user="ce@example.com"))),
        "push.json": orjson.dumps(cloud_event(daemonset_entry(user="push@example.com")).data),
        "message.json": orjson.dumps({"messageId": "77", "attributes": {"a": "b"}, "data":
            base64.b64encode(orjson.dumps(daemonset_entry(user="msg@example.com"))).decode()}),
        "array.json": orjson.dumps([daemonset_entry(user="arr@example.com")]),
        "entry.json.gz": gzip.compress(orjson.dumps(daemonset_entry(user="gz@example.com"))),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    status, findings, _ = run(*(tmp_path / name for name in files))
    assert status == 0
    assert sorted(users(findings)) == sorted(
        f"{n}@example.com" for n in ("ce", "push", "msg", "arr", "gz"))


def test_a_failing_function_is_reported_and_the_exit_status_says_so(
        emulator_env: GcloudEmulators, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBETRAIL_DEDUP_COLLECTION", "not/valid")
    path = tmp_path / "entry.json"
    path.write_bytes(orjson.dumps(daemonset_entry()))
    status, findings, err = run(path)
    assert (status, findings) == (1, [])
    assert "returned HTTP 500" in err


def test_without_emulators_it_refuses_to_run(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    with pytest.raises(ConfigError, match="make emulators"):
        local_gcp.settings()
    status, _, err = run(tmp_path / "whatever.json")
    assert status == 1 and "make emulators" in err


def test_settings_come_from_the_env_file_of_make_emulators(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "gcp.env"
    env_file.write_text("# comment\nPUBSUB_EMULATOR_HOST='127.0.0.1:1'\n"
                        "export FIRESTORE_EMULATOR_HOST=127.0.0.1:2\n")
    got = local_gcp.settings({"KUBETRAIL_FINDINGS_TOPIC": "mine"}, env_file)
    assert got["PUBSUB_EMULATOR_HOST"] == "127.0.0.1:1"
    assert got["FIRESTORE_EMULATOR_HOST"] == "127.0.0.1:2"
    assert got["KUBETRAIL_FINDINGS_TOPIC"] == "mine"
    assert got["GOOGLE_CLOUD_PROJECT"] == "kubetrail-local"
