"""`kubetrail local invoke <cloud>` with the poison set of issue 9 as a JSON-lines file (one
record per line, as a user would save them): every record reaches the real function, the poison
ones are dead-lettered, the good findings are printed and the command exits 0."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import pytest

from tests.functions.azure.test_poison import diagnostic_record
from tests.functions.poison import POISON, USERS, gke_entries, k8s_messages

ORDER = (*POISON, "bad_host", "good")
DETECTED = [USERS["bad_host"], USERS["good"]]


def run(invoke: Callable[[list[Path], TextIO, TextIO], int], path: Path
        ) -> tuple[int, list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    status = invoke([path], out, err)
    users = sorted(json.loads(line)["context"]["username"]
                   for line in out.getvalue().splitlines())
    return status, users, err.getvalue()


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.aws
def test_aws(env_file: Path, tmp_path: Path) -> None:
    from kubetrail.local.aws import invoke

    texts = k8s_messages()
    status, users, err = run(invoke, write_lines(tmp_path / "eks.jsonl",
                                                 [texts[k] for k in ORDER]))
    assert (status, users) == (0, DETECTED), err
    assert f"records={len(ORDER)}" in err and f"dead_lettered={len(POISON)}" in err


@pytest.mark.azure
def test_azure(settings: dict[str, str], tmp_path: Path) -> None:
    from kubetrail.local.azure import invoke

    texts = k8s_messages()
    lines = [json.dumps(diagnostic_record("@DEEP@" if k == "deep_array" else texts[k]))
             .replace('"@DEEP@\\n"', texts["deep_array"]) for k in ORDER]
    status, users, err = run(invoke, write_lines(tmp_path / "aks.jsonl", lines))
    assert (status, users) == (0, DETECTED), err
    assert f"failed={len(POISON)}" in err


@pytest.mark.gcp
def test_gcp(emulator_env: Any, tmp_path: Path) -> None:
    from kubetrail.local.gcp import invoke

    entries = gke_entries()
    status, users, err = run(invoke, write_lines(tmp_path / "gke.jsonl",
                                                 [entries[k] for k in ORDER]))
    assert (status, users) == (0, DETECTED), err
    assert f"{len(POISON)} dead-lettered" in err
