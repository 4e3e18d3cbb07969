"""Each function package installs what the core imports: every runtime dependency of the
kubetrail package (pyproject's `dependencies`) is in each cloud's requirements.txt, except the
terminal-only ones the functions never import."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TERMINAL_ONLY = {"rich"}  # the CLI's table and progress display


def _names(lines: list[str]) -> set[str]:
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower())
    return names


def test_the_core_dependencies_are_known() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert {"orjson", "msgspec", "pyyaml"} <= _names(deps)


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_each_function_package_installs_the_core_dependencies(cloud: str) -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    needed = _names(deps) - TERMINAL_ONLY
    listed = _names((ROOT / "functions" / cloud / "requirements.txt").read_text().splitlines())
    assert needed <= listed, f"functions/{cloud}/requirements.txt lacks {sorted(needed - listed)}"
