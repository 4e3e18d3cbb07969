"""Requires for Panther rules, from a side file kubetrail ships (`requires.yml` here): for some of
panther-analysis's Kubernetes rules, the verbs/resources/subresources their rule() can only match
with — kubetrail's own reading of each rule, written down as data.

An entry applies only to the exact rule it was written for: the SHA-256 of the rule's YAML bytes,
a NUL, and its Python bytes must equal the entry's `sha256`. An edited rule (or another rule
reusing the RuleID) gets no Requires, so the prefilter is switched off rather than wrong. Only
conditions written literally in the rule's own Python file are recorded (a helper's constants may
change without the rule's hash changing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SIDE_FILE = Path(__file__).resolve().parent / "requires.yml"


def rule_digest(yml: Path, py: Path) -> str:
    """The hash an entry of the side file names: sha256(YAML bytes + NUL + Python bytes)."""
    return hashlib.sha256(yml.read_bytes() + b"\0" + py.read_bytes()).hexdigest()


@cache
def _entries(path: Path = SIDE_FILE) -> Mapping[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: expected a mapping of RuleID to entries")
    return data


def side_requires(rule_id: str, yml: Path, py: Path, path: Path = SIDE_FILE) -> Any:
    """The side file's Requires for this exact rule file, or None."""
    entry = _entries(path).get(rule_id)
    if not isinstance(entry, Mapping) or entry.get("sha256") != rule_digest(yml, py):
        return None
    return entry.get("Requires")
