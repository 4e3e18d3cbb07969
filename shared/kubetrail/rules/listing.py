"""`kubetrail rules list`: every loaded rule with the settings it runs with, as a table or JSON."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from kubetrail.rules.config import load_config
from kubetrail.rules.loader import Rule, load_rules


def rule_summary(rule: Rule) -> dict[str, Any]:
    """The JSON object of one rule (documented in docs/rules.md)."""
    return {
        "rule_id": rule.rule_id,
        "display_name": rule.display_name,
        "enabled": rule.enabled,
        "severity": rule.severity,
        "dedup_period_minutes": rule.dedup_period_minutes,
        "threshold": rule.threshold,
        "log_types": sorted(rule.log_types),
        "tags": list(rule.tags),
        "reports": {"MITRE ATT&CK": [f"{tactic}:{technique}" for tactic, technique in rule.mitre]},
        "requires": {k: sorted(v) for k, v in sorted(rule.requires.items())},
        "source": str(rule.source),
    }


def _cell(text: str, width: int) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= width else text[:width - 1] + "…"


def render_rules(paths: Iterable[Path] | None, config: Path | None, fmt: str) -> str:
    """All rules (disabled ones too), after the configuration file when one is given."""
    rules = load_rules(paths, include_disabled=True)
    if config is not None:
        rules = load_config(config).apply(rules)
    rules = sorted(rules, key=lambda r: r.rule_id)
    if fmt == "json":
        return orjson.dumps([rule_summary(r) for r in rules], option=orjson.OPT_INDENT_2).decode() \
            + "\n"
    header = f"{'RULE ID':<44} {'ENABLED':<7} {'SEVERITY':<8} {'DEDUP':>5} {'THR':>3}  TAGS"
    lines = [header]
    for r in rules:
        lines.append(f"{_cell(r.rule_id, 44):<44} {'yes' if r.enabled else 'no':<7} "
                     f"{r.severity:<8} {r.dedup_period_minutes:>5} {r.threshold:>3}  "
                     f"{_cell(', '.join(r.tags), 60)}")
    return "\n".join(lines) + "\n"
