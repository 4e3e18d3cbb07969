"""Load Panther-format rules: a YAML file (RuleID, DisplayName, Enabled, LogTypes, Severity, ...)
next to the Python file it names (`Filename`) with `rule(event)` and optional `title`, `dedup`,
`alert_context`, `severity`. kubetrail's own rules receive the normalized AuditEvent; Panther's
rule files, unchanged, receive a Panther event (kubetrail/panther/rules.py tells them apart).

`load_rules(paths)` loads exactly the given files (the bundled packs without paths);
`load_rule_set(extra)` loads the bundled packs plus `extra`, where a rule with a bundled rule's
RuleID replaces it (with a note)."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO

from kubetrail.dedup.window import MAX_DISTINCT
from kubetrail.errors import ConfigError, Origin
from kubetrail.events import CLOUD_BY_LOG_TYPE, AuditEvent
from kubetrail.rules.requirements import requirements
from kubetrail.rules.speccache import SpecCache

if TYPE_CHECKING:
    from kubetrail.panther.helpers import PantherRoot

BUNDLED_PACKS = Path(__file__).resolve().parent.parent / "packs"
SEVERITIES = ("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")  # lowest to highest: the rank order
# AuditEvent fields a `Distinct:` may name: the scalar ones and the string tuples (not the raw
# record, the request object or the time).
DISTINCT_FIELDS = frozenset(f.name for f in dataclasses.fields(AuditEvent)
                            if f.name not in ("raw", "request_object", "time"))
_MITRE = re.compile(r"^(TA\d{4}):(T\d{4}(?:\.\d{3})?)$")


@dataclass(frozen=True, slots=True)
class RuleTest:
    """One entry of a rule's `Tests`: a Panther-shaped log and whether the rule should match."""

    name: str
    expected: bool
    log: Mapping[str, Any]
    mocks: tuple[tuple[str, Any], ...] = ()  # (objectName, returnValue): Panther's Mocks


@dataclass(frozen=True, slots=True)
class Rule:
    """A loaded rule: the YAML's metadata plus the Python functions."""

    rule_id: str
    display_name: str
    enabled: bool
    log_types: frozenset[str]
    severity: str
    description: str
    runbook: str
    reference: str
    mitre: tuple[tuple[str, str], ...]
    dedup_period_minutes: int
    threshold: int
    summary_attributes: tuple[str, ...]
    tags: tuple[str, ...]
    tests: tuple[RuleTest, ...]
    requires: Mapping[str, Any]  # field -> values (a frozenset), or PUBLIC_SOURCE_IPS
    rule: Callable[[Any], Any]
    title: Callable[[Any], Any] | None = None
    dedup: Callable[[Any], Any] | None = None
    alert_context: Callable[[Any], Any] | None = None
    dynamic_severity: Callable[[Any], Any] | None = None
    source: Path = field(default=Path())
    # Per match, finding fields that override the YAML's (description, reference, runbook) or add
    # to it (destinations, summary): Panther rules' functions of those names.
    annotate: Callable[[Any], Mapping[str, Any]] | None = None
    # The log types on which the engine checks `requires` (None: all).
    requires_log_types: frozenset[str] | None = None
    distinct: str | None = None  # `Distinct:` the AuditEvent field whose distinct values count


def severity_rank(severity: str) -> int:
    """INFO 0, LOW 1, MEDIUM 2, HIGH 3, CRITICAL 4 (what dedup compares for escalation)."""
    return SEVERITIES.index(severity)


def distinct_value(event: AuditEvent, name: str) -> str:
    """The value of a rule's Distinct field on an event, as the dedup store counts it. A missing
    or empty value is the empty string: it counts as one distinct value of its own, never more;
    a tuple (groups, source_ips) is its items joined by the unit separator. Several fields
    joined by `+` (`namespace+name`) count their values together, separated by a record
    separator (a Secret is its namespace and name: the same name in two namespaces is two)."""
    if "+" in name:
        return "\x1e".join(distinct_value(event, part) for part in name.split("+"))
    value = getattr(event, name, None)
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "\x1f".join(map(str, value))
    return str(value)


def _distinct(spec: Mapping[str, Any], threshold: int, origin: Origin) -> str | None:
    """kubetrail extension `Distinct`: count distinct values of this AuditEvent field (or of
    several, `namespace+name`) towards the Threshold (2 to MAX_DISTINCT: a window keeps one
    hash per value up to the threshold)."""
    name = spec.get("Distinct")
    if name is None:
        return None
    if not isinstance(name, str) or not all(p in DISTINCT_FIELDS for p in name.split("+")):
        raise ConfigError(f"Distinct must name one of {sorted(DISTINCT_FIELDS)} (or several "
                          "joined by +)", origin)
    if not 2 <= threshold <= MAX_DISTINCT:
        raise ConfigError(f"Distinct needs a Threshold from 2 to {MAX_DISTINCT}", origin)
    return name


def _str(spec: Mapping[str, Any], key: str, origin: Origin, default: str | None = None) -> str:
    value = spec.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string", origin)
    return value.strip() if key != "Runbook" else value


def _mitre(reports: Any, origin: Origin) -> tuple[tuple[str, str], ...]:
    if reports is None:
        return ()
    if not isinstance(reports, Mapping):
        raise ConfigError("Reports must be a mapping", origin)
    out = []
    for entry in reports.get("MITRE ATT&CK", []) or []:
        m = _MITRE.match(str(entry).strip())
        if not m:
            raise ConfigError(f"MITRE ATT&CK entry {entry!r} is not TAxxxx:Txxxx", origin)
        out.append((m.group(1), m.group(2)))
    return tuple(out)


def _requires(spec: Any, origin: Origin) -> Mapping[str, Any]:
    """kubetrail extension `Requires`: event fields and the values the rule can only match with.
    The engine checks them before calling rule(), and the prefilter is derived from them
    (the values and their tests: kubetrail.rules.requirements)."""
    if spec is None:
        return {}
    try:
        return requirements(spec)
    except ValueError as exc:
        raise ConfigError(str(exc), origin) from exc


def _load_module(path: Path, rule_id: str, origin: Origin) -> ModuleType:
    name = "kubetrail_rule_" + re.sub(r"\W", "_", rule_id)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load {path}", origin)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ConfigError(f"{path.name} failed to import: {exc!r}", origin) from exc
    if not callable(getattr(module, "rule", None)):
        raise ConfigError(f"{path.name} defines no rule(event)", origin)
    return module


def parse_yaml(text: bytes) -> Any:
    """A rule file's YAML, parsed safely (PyYAML is imported on the first parse only: a start-up
    served by the spec cache never imports it)."""
    import yaml

    try:  # libyaml's safe loader, in every PyYAML wheel: ~5x faster than the pure-Python one
        from yaml import CSafeLoader as SafeLoader
    except ImportError:  # pragma: no cover - PyYAML built without libyaml
        from yaml import SafeLoader  # type: ignore[assignment]
    return yaml.load(text.decode("utf-8"), Loader=SafeLoader)


def _read_spec(yml: Path, cache: SpecCache | None) -> Any:
    try:
        text = yml.read_bytes()
        return parse_yaml(text) if cache is None else cache.spec(text, parse_yaml)
    except Exception as exc:  # OSError, yaml.YAMLError, UnicodeDecodeError
        raise ConfigError(f"unreadable rule file: {exc}", Origin(str(yml))) from exc


def load_rule(yml: Path, panther_root: PantherRoot | None = None, *,
              panther_requires: bool = True, cache: SpecCache | None = None) -> Rule:
    """Load one rule from its YAML file and the Python file it names (its parsed YAML from
    `cache` when it holds this very text)."""
    origin = Origin(str(yml))
    spec = _read_spec(yml, cache)
    if not isinstance(spec, Mapping) or spec.get("AnalysisType", "rule") != "rule":
        raise ConfigError("not a rule (AnalysisType must be rule)", origin)
    rule_id = _str(spec, "RuleID", origin)
    filename = _str(spec, "Filename", origin)
    panther = _is_panther(spec, yml.parent / filename)
    log_types = spec.get("LogTypes") or []
    if panther and isinstance(log_types, list):  # a Panther rule may name other log types too
        log_types = [t for t in log_types if t in CLOUD_BY_LOG_TYPE] or log_types
    unknown = [t for t in log_types if t not in CLOUD_BY_LOG_TYPE]
    if not log_types or unknown:
        raise ConfigError(f"LogTypes must be in {sorted(CLOUD_BY_LOG_TYPE)}: {unknown}", origin)
    severity = _str(spec, "Severity", origin).upper()
    if severity not in SEVERITIES:
        raise ConfigError(f"Severity {severity!r} is not one of {SEVERITIES}", origin)
    period, threshold = spec.get("DedupPeriodMinutes", 60), spec.get("Threshold", 1)
    if not isinstance(period, int) or period < 1 or not isinstance(threshold, int) or threshold < 1:
        raise ConfigError("DedupPeriodMinutes and Threshold must be positive integers", origin)
    distinct = _distinct(spec, threshold, origin)
    tests = []
    for i, t in enumerate(spec.get("Tests") or []):
        if not isinstance(t, Mapping) or not isinstance(t.get("Log"), Mapping):
            raise ConfigError(f"Tests[{i}] needs Name, ExpectedResult and a Log mapping", origin)
        tests.append(RuleTest(str(t.get("Name", f"test {i}")), bool(t.get("ExpectedResult")),
                              t["Log"], _mocks(t.get("Mocks"), origin)))
    summary = tuple(map(str, spec.get("SummaryAttributes") or ()))
    if panther:
        functions, requires = _panther_parts(yml, spec, rule_id, summary, panther_root, origin,
                                             panther_requires)
    else:
        module = _load_module(yml.parent / filename, rule_id, origin)
        functions = {"rule": module.rule, "title": getattr(module, "title", None),
                     "dedup": getattr(module, "dedup", None),
                     "alert_context": getattr(module, "alert_context", None),
                     "dynamic_severity": getattr(module, "severity", None)}
        requires = _requires(spec.get("Requires"), origin)
    return Rule(
        rule_id=rule_id,
        display_name=_str(spec, "DisplayName", origin, rule_id),
        enabled=bool(spec.get("Enabled", True)),
        log_types=frozenset(log_types),
        severity=severity,
        description=_str(spec, "Description", origin, ""),
        runbook=_str(spec, "Runbook", origin, ""),
        reference=_str(spec, "Reference", origin, ""),
        mitre=_mitre(spec.get("Reports"), origin),
        dedup_period_minutes=period,
        threshold=threshold,
        summary_attributes=summary,
        tags=tuple(map(str, spec.get("Tags") or ())),
        tests=tuple(tests),
        requires=requires,
        source=yml,
        distinct=distinct,
        **functions,
    )


def _is_panther(spec: Mapping[str, Any], py: Path) -> bool:
    from kubetrail.panther.rules import is_panther_rule

    return is_panther_rule(spec, py)


def _panther_parts(yml: Path, spec: Mapping[str, Any], rule_id: str, summary: tuple[str, ...],
                   root: PantherRoot | None, origin: Origin, with_requires: bool
                   ) -> tuple[dict[str, Any], Mapping[str, frozenset[str]]]:
    """A Panther rule's functions (over AuditEvent) and the side file's Requires for it."""
    from kubetrail.panther.requires import side_requires
    from kubetrail.panther.rules import load_module, panther_functions

    if spec.get("InlineFilters"):  # ignoring them would widen what the rule matches
        raise ConfigError("InlineFilters are not supported (docs/panther.md)", origin)
    py = yml.parent / str(spec["Filename"])
    module = load_module(py, rule_id, root, origin)
    requires = side_requires(rule_id, yml, py) if with_requires else None
    return (panther_functions(module, rule_id, root, summary),
            _requires(requires, Origin("kubetrail/panther/requires.yml", rule_id)))


def _mocks(spec: Any, origin: Origin) -> tuple[tuple[str, Any], ...]:
    """A test's Mocks: [{objectName, returnValue}, ...]."""
    if not spec:
        return ()
    if not isinstance(spec, list) or not all(
            isinstance(m, Mapping) and isinstance(m.get("objectName"), str) for m in spec):
        raise ConfigError("Mocks must be a list of {objectName, returnValue}", origin)
    return tuple((m["objectName"], m.get("returnValue")) for m in spec)


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Every rule YAML under the given files or directories, sorted for a stable order."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yml", ".yaml")))
        elif p.is_file():
            found.append(p)
        else:
            raise ConfigError(f"no such rule file or directory: {p}")
    return found


def load_rules(
    paths: Iterable[Path] | None = None, *, include_disabled: bool = False,
    panther_root: PantherRoot | None = None, panther_requires: bool = True,
) -> list[Rule]:
    """Load rules from files/directories (bundled packs by default); duplicate ids are errors.
    `panther_root` serves Panther rules' helpers and data models; `panther_requires=False`
    ignores the side file of Requires for Panther rules (no prefilter for them)."""
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    cache = SpecCache()
    for yml in rule_files(list(paths) if paths else [BUNDLED_PACKS]):
        rule = load_rule(yml, panther_root, panther_requires=panther_requires, cache=cache)
        if rule.rule_id in seen:
            raise ConfigError(f"duplicate RuleID {rule.rule_id} (also in {seen[rule.rule_id]})",
                              Origin(str(yml)))
        seen[rule.rule_id] = yml
        if rule.enabled or include_disabled:
            rules.append(rule)
    cache.save()
    return rules


def load_rule_set(
    extra: Iterable[Path] | None = None, *, bundled: bool = True, include_disabled: bool = False,
    panther_root: PantherRoot | None = None, panther_requires: bool = True,
    err: TextIO | None = None,
) -> list[Rule]:
    """The bundled packs (unless `bundled` is False) plus the rules under `extra`. A rule of
    `extra` with the RuleID of a bundled rule replaces it (even a disabled one: the user's copy
    decides), with a note on `err` (stderr)."""
    every = load_rules(extra, include_disabled=True, panther_root=panther_root,
                       panther_requires=panther_requires) if extra else []
    users = [r for r in every if r.enabled or include_disabled]
    if not bundled:
        return users
    replaced = {r.rule_id: r for r in every}  # a disabled copy switches the bundled rule off
    rules = []
    for rule in load_rules(None, include_disabled=include_disabled):
        if rule.rule_id in replaced:
            (err or sys.stderr).write(
                f"kubetrail: note: rule {rule.rule_id} from {replaced[rule.rule_id].source} "
                "replaces the bundled one\n")
            continue
        rules.append(rule)
    return rules + users
