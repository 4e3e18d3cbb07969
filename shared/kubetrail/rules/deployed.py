"""The rules a deployed function runs: the bundled packs plus the rule directories and the Panther
root packaged with it (`make package-<cloud> RULES=... PANTHER_ROOT=...`).

Settings (relative paths are relative to the function's package directory `base`):
  KUBETRAIL_RULES         rule files/directories added to the bundled packs, separated by ":"
                          or ","; unset or empty: `kubetrail_rules/` when the package has it
  KUBETRAIL_PANTHER_ROOT  the panther-analysis helpers and data models for Panther rules;
                          unset or empty: `kubetrail_panther/` when the package has it
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


def deployed_rules(base: Path, env: Mapping[str, str] = os.environ, *,
                   include_disabled: bool = False) -> list[Rule]:
    """Bundled packs + KUBETRAIL_RULES, Panther rules served by KUBETRAIL_PANTHER_ROOT."""
    extra = _paths(env.get("KUBETRAIL_RULES") or "", base)
    if not extra and (base / PACKAGED_RULES).is_dir():
        extra = [base / PACKAGED_RULES]
    root = (env.get("KUBETRAIL_PANTHER_ROOT") or "").strip()
    if not root and (base / PACKAGED_PANTHER_ROOT).is_dir():
        root = PACKAGED_PANTHER_ROOT
    panther = None
    if root:  # kubetrail.panther is imported only for a Panther root
        from kubetrail.panther.helpers import panther_root

        panther = panther_root(base / root)
    return load_rule_set(extra, include_disabled=include_disabled, panther_root=panther)
