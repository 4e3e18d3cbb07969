"""The panther-analysis corpus (../shared/panther-analysis, or KUBETRAIL_PANTHER_ROOT): tests that
need it skip, with this message, when it is absent; the project never needs it to build or pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def corpus_path() -> Path:
    env = os.environ.get("KUBETRAIL_PANTHER_ROOT")
    return Path(env) if env else REPO.parent / "shared" / "panther-analysis"


CORPUS = corpus_path()  # read once: the tests below run the CLI without the variable


@pytest.fixture(autouse=True)
def _no_root_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads KUBETRAIL_PANTHER_ROOT; tests name their root explicitly."""
    monkeypatch.delenv("KUBETRAIL_PANTHER_ROOT", raising=False)


@pytest.fixture(scope="session")
def panther_analysis() -> Path:
    """The panther-analysis checkout, or a skip saying where it was looked for."""
    path = CORPUS
    if not (path / "global_helpers").is_dir() or not (path / "rules").is_dir():
        pytest.skip(f"panther-analysis not found at {path} (set KUBETRAIL_PANTHER_ROOT to a "
                    "checkout): Panther corpus tests skipped")
    return path


def write_rule(directory: Path, rule_id: str, body: str, extra_yaml: str = "",
               log_types: str = "[Amazon.EKS.Audit, Azure.MonitorActivity, GCP.AuditLog]"
               ) -> Path:
    """A rule file pair in Panther's format; returns the YAML path."""
    stem = rule_id.replace(".", "_").lower()
    (directory / f"{stem}.py").write_text(body)
    yml = directory / f"{stem}.yml"
    yml.write_text(f"AnalysisType: rule\nRuleID: {rule_id}\nFilename: {stem}.py\nEnabled: true\n"
                   f"LogTypes: {log_types}\nSeverity: Medium\n{extra_yaml}")
    return yml
