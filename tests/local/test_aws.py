"""`kubetrail local invoke aws` and `make emulators`' script: the whole local loop on a moto
server — files in, the real handler, findings read back from SNS through the subscribed queue."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubetrail.local.aws import MAX_DELIVERY_BYTES, deliveries, invoke
from tests.emulators.moto import Moto, answers
from tests.emulators.net import free_port
from tests.factories import seed_only_config
from tests.functions.aws.test_handler import audit

pytestmark = pytest.mark.aws
ROOT = Path(__file__).resolve().parents[2]
KUBETRAIL = Path(sys.executable).parent / "kubetrail"
SAMPLES = sorted((ROOT / "samples").glob("eks*"))


def unwrap(event: dict[str, object]) -> dict[str, object]:
    data = event["awslogs"]["data"]  # type: ignore[index]
    return json.loads(gzip.decompress(base64.b64decode(data)))  # type: ignore[no-any-return]


@pytest.fixture
def env_file(aws_env: Moto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An env file like `make emulators` writes, naming fresh resources on the session moto."""
    topic, reader = aws_env.topic_with_queue()
    settings = {**aws_env.env(), "KUBETRAIL_DEDUP_TABLE": aws_env.dedup_table(),
                "KUBETRAIL_SNS_TOPIC_ARN": topic, "KUBETRAIL_DLQ_URL": aws_env.queue("dlq"),
                "KUBETRAIL_LOCAL_FINDINGS_QUEUE_URL": reader, "KUBETRAIL_LOCAL_CLUSTER": "dev"}
    path = tmp_path / "aws.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    monkeypatch.setenv("KUBETRAIL_AWS_ENV", str(path))
    monkeypatch.setenv("KUBETRAIL_CONFIG", str(seed_only_config(tmp_path)))  # the seed rule alone
    return path


def run(files: list[Path]) -> tuple[int, list[dict[str, object]], str]:
    out, err = io.StringIO(), io.StringIO()
    status = invoke(files, out, err)
    return status, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_raw_events_are_wrapped_like_cloudwatch_and_findings_printed_once(
        env_file: Path, aws_env: Moto, tmp_path: Path) -> None:
    raw = tmp_path / "audit.jsonl"
    cut = audit(user="zed")[:-30]  # a truncated line: still names create/daemonsets
    raw.write_text("\n".join([audit(), audit(verb="get"), cut,
                              audit(user="bob@example.com")]) + "\n")
    status, findings, err = run([raw])
    assert status == 0, err
    assert [(f["context"]["username"], f["cluster"]) for f in findings] == [
        ("alice@example.com", "dev"), ("bob@example.com", "dev")]
    assert "records=4" in err and "dead_lettered=1" in err and "received=2" in err
    url = next(line.split("=", 1)[1] for line in env_file.read_text().splitlines()
               if line.startswith("KUBETRAIL_DLQ_URL="))
    (dead,) = [json.loads(m["Body"]) for m in aws_env.drain(url)]
    assert dead["raw"] == cut
    assert dead["position"].startswith("/aws/eks/dev/cluster/kube-apiserver-audit-local/")
    assert run([raw])[:2] == (0, [])  # delivered again: the windows are open


def test_bundled_samples_and_json_documents(env_file: Path, tmp_path: Path) -> None:
    assert SAMPLES, "samples/eks* are bundled"
    status, findings, err = run(SAMPLES)
    assert status == 0, err
    assert findings and all(f["cloud"] == "aws" for f in findings)
    array, single = tmp_path / "array.json", tmp_path / "one.json"
    array.write_text(json.dumps([json.loads(audit(user="carol")), json.loads(audit(user="dan"))]))
    single.write_text(json.dumps(json.loads(audit(user="erin")), indent=2))
    status, findings, _ = run([array, single])
    assert [f["context"]["username"] for f in findings] == ["carol", "dan", "erin"]


def test_large_files_are_split_into_cloudwatch_sized_deliveries(tmp_path: Path) -> None:
    messages = [audit(user=f"u{i}", audit_id=f"{i:06d}" + "x" * 700) for i in range(3000)]
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(messages))
    payloads = [unwrap(e) for e in deliveries(path, "big")]
    sizes = [sum(len(m["message"]) + 26 for m in p["logEvents"]) for p in payloads]  # type: ignore[attr-defined]
    assert len(payloads) == 4 and all(s <= MAX_DELIVERY_BYTES for s in sizes)
    assert all(p["logGroup"] == "/aws/eks/big/cluster" for p in payloads)
    assert [m["message"] for p in payloads for m in p["logEvents"]] == messages  # type: ignore[attr-defined]


def test_without_emulator_settings_it_refuses_to_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBETRAIL_AWS_ENV", str(tmp_path / "missing.env"))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    status, findings, err = run([tmp_path / "x.json"])
    assert (status, findings) == (2, []) and "make emulators" in err


def test_make_emulators_script_and_the_cli_end_to_end(tmp_path: Path) -> None:
    """`emulators.py up` (twice: idempotent), the installed `kubetrail` command, then `down`."""
    port, state = free_port(), tmp_path / "state"
    script = [sys.executable, str(ROOT / "scripts" / "aws" / "emulators.py")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KUBETRAIL_"))}
    up = [*script, "up", "--port", str(port), "--state-dir", str(state)]
    try:
        subprocess.run(up, check=True, env=env, timeout=60, capture_output=True)
        first = (state / "aws.env").read_text()
        again = subprocess.run(up, check=True, env=env, timeout=60, capture_output=True,
                               text=True)
        assert "already answering" in again.stdout and (state / "aws.env").read_text() == first
        assert f"AWS_ENDPOINT_URL=http://127.0.0.1:{port}" in first
        cli_env = {**env, "KUBETRAIL_AWS_ENV": str(state / "aws.env")}
        cmd = [str(KUBETRAIL), "local", "invoke", "aws", *map(str, SAMPLES)]
        out = subprocess.run(cmd, env=cli_env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        lines = [json.loads(line) for line in out.stdout.splitlines()]
        assert {f["rule_id"] for f in lines} >= {"Kubernetes.DaemonSet.Created",
                                                 "Kubernetes.Pod.StealServiceAccountToken"}
        out = subprocess.run(cmd, env=cli_env, capture_output=True, text=True, timeout=120)
        assert (out.returncode, out.stdout) == (0, "")
    finally:
        subprocess.run([*script, "down", "--state-dir", str(state)], check=True, env=env,
                       timeout=60, capture_output=True)
    assert not answers(f"http://127.0.0.1:{port}")
    assert not (state / "aws.env").exists()
