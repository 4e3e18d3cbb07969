"""Rules: Panther-format rule files (YAML + Python), their evaluation, tests and prefilter."""

from kubetrail.rules.engine import Match, RuleError, RuleSet
from kubetrail.rules.loader import Rule, load_rules

__all__ = ["Match", "Rule", "RuleError", "RuleSet", "load_rules"]
