"""The rules a deployed function runs: the bundled packs plus the rule directories and the Panther
root packaged with it (`make package-<cloud> RULES=... PANTHER_ROOT=...`).

Settings (relative paths are relative to the function's package directory `base`):
  KUBETRAIL_RULES         rule files/directories added to the bundled packs, separated by ":"
                          or ","; unset: `kubetrail_rules/` when the package has it; "": none
  KUBETRAIL_PANTHER_ROOT  the panther-analysis helpers and data models for Panther rules;
                          unset: `kubetrail_panther/` when the package has it; "": none
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from kubetrail.rules.loader import Rule, load_rule_set

PACKAGED_RULES = "kubetrail_rules"
PACKAGED_PANTHER_ROOT = "kubetrail_panther"


def _paths(value: str, base: Path) -> list[Path]:
    return [base / p.strip() for p in re.split(r"[:,]", value) if p.strip()]


def deployed_rules(base: Path, env: Mapping[str, str] = os.environ) -> list[Rule]:
    """Bundled packs + KUBETRAIL_RULES, Panther rules served by KUBETRAIL_PANTHER_ROOT."""
    from kubetrail.panther.helpers import panther_root

    rules = env.get("KUBETRAIL_RULES")
    extra = _paths(rules, base) if rules is not None else (
        [base / PACKAGED_RULES] if (base / PACKAGED_RULES).is_dir() else [])
    root = env.get("KUBETRAIL_PANTHER_ROOT")
    if root is None and (base / PACKAGED_PANTHER_ROOT).is_dir():
        root = PACKAGED_PANTHER_ROOT
    return load_rule_set(extra, panther_root=panther_root(base / root if root else None))
