"""Load Panther-format rules: a YAML file (RuleID, DisplayName, Enabled, LogTypes, Severity, ...)
next to the Python file it names (`Filename`) with `rule(event)` and optional `title`, `dedup`,
`alert_context`, `severity`. kubetrail's own rules receive the normalized AuditEvent; Panther's
rule files, unchanged, receive a Panther event (kubetrail/panther/rules.py tells them apart).

`load_rules(paths)` loads exactly the given files (the bundled packs without paths);
`load_rule_set(extra)` loads the bundled packs plus `extra`, where a rule with a bundled rule's
RuleID replaces it (with a note)."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import CodeType, ModuleType
from typing import TYPE_CHECKING, Any, TextIO

from kubetrail.errors import ConfigError, Origin
from kubetrail.events import CLOUD_BY_LOG_TYPE, AuditEvent
from kubetrail.record import field, record
from kubetrail.rules import specfields
from kubetrail.rules.packcache import Caches, PackCache
from kubetrail.rules.specfields import SEVERITIES, RuleTest

if TYPE_CHECKING:
    from kubetrail.panther.helpers import PantherRoot

__all__ = ["BUNDLED_PACKS", "SEVERITIES", "Rule", "RuleTest", "distinct_value", "load_rule_set",
           "load_rules", "parse_yaml", "rule_files", "severity_rank"]

BUNDLED_PACKS = Path(__file__).resolve().parent.parent / "packs"


@record(frozen=True, slots=True)
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
    tests: Sequence[RuleTest]  # a tuple, or specfields.LazyTests when served by the pack cache
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


def _load_module(path: Path, rule_id: str, origin: Origin, code: CodeType | None = None
                 ) -> tuple[ModuleType, CodeType]:
    """The rule's module, run from `code` (the pack cache's) or from what importlib compiles
    (or reads from __pycache__); the module and its code."""
    name = "kubetrail_rule_" + re.sub(r"\W", "_", rule_id)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load {path}", origin)
    module = importlib.util.module_from_spec(spec)
    try:
        if code is None:
            code = spec.loader.get_code(name)  # type: ignore[attr-defined]
            if code is None:
                raise ImportError(f"cannot load {path}")
        else:
            _fix_co_filename(code, str(path))
        exec(code, module.__dict__)  # noqa: S102 - what the loader's exec_module does
    except Exception as exc:
        raise ConfigError(f"{path.name} failed to import: {exc!r}", origin) from exc
    if not callable(getattr(module, "rule", None)):
        raise ConfigError(f"{path.name} defines no rule(event)", origin)
    return module, code


def _fix_co_filename(code: CodeType, path: str) -> None:
    """Tracebacks name the file where it is now, as importlib does for a moved .pyc."""
    import _imp

    _imp._fix_co_filename(code, path)  # type: ignore[attr-defined]


def parse_yaml(text: bytes) -> Any:
    """A rule file's YAML, parsed safely (PyYAML is imported on the first parse only: a start-up
    served by the caches never imports it)."""
    import yaml

    try:  # libyaml's safe loader, in every PyYAML wheel: ~5x faster than the pure-Python one
        from yaml import CSafeLoader as SafeLoader
    except ImportError:  # pragma: no cover - PyYAML built without libyaml
        from yaml import SafeLoader  # type: ignore[assignment]
    return yaml.load(text.decode("utf-8"), Loader=SafeLoader)


def load_rule(yml: Path, panther_root: PantherRoot | None = None, *,
              panther_requires: bool = True, caches: Caches | None = None) -> Rule:
    """Load one rule from its YAML file and the Python file it names (from the pack cache when
    it holds these very files)."""
    origin = Origin(str(yml))
    try:
        text = yml.read_bytes()
        hit = caches.pack.lookup(text, yml) if caches and caches.pack else None
        spec = hit.spec if hit else caches.spec(text, parse_yaml) if caches else parse_yaml(text)
    except Exception as exc:  # OSError, yaml.YAMLError, UnicodeDecodeError
        raise ConfigError(f"unreadable rule file: {exc}", origin) from exc
    if not isinstance(spec, Mapping) or spec.get("AnalysisType", "rule") != "rule":
        raise ConfigError("not a rule (AnalysisType must be rule)", origin)
    rule_id = specfields.string(spec, "RuleID", origin)
    filename = specfields.string(spec, "Filename", origin)
    # kubetrail's keys make a rule kubetrail's without asking kubetrail.panther
    panther = hit is None and "Requires" not in spec and "Distinct" not in spec \
        and _is_panther(spec, yml.parent / filename)
    log_types = spec.get("LogTypes") or []
    if panther and isinstance(log_types, list):  # a Panther rule may name other log types too
        log_types = [t for t in log_types if t in CLOUD_BY_LOG_TYPE] or log_types
    unknown = [t for t in log_types if t not in CLOUD_BY_LOG_TYPE]
    if not log_types or unknown:
        raise ConfigError(f"LogTypes must be in {sorted(CLOUD_BY_LOG_TYPE)}: {unknown}", origin)
    severity = specfields.string(spec, "Severity", origin).upper()
    if severity not in SEVERITIES:
        raise ConfigError(f"Severity {severity!r} is not one of {SEVERITIES}", origin)
    period, threshold = spec.get("DedupPeriodMinutes", 60), spec.get("Threshold", 1)
    if not isinstance(period, int) or period < 1 or not isinstance(threshold, int) or threshold < 1:
        raise ConfigError("DedupPeriodMinutes and Threshold must be positive integers", origin)
    distinct = specfields.distinct(spec, threshold, origin)
    tests: Sequence[RuleTest] = specfields.tests(spec.get("Tests"), origin) if hit is None \
        else () if hit.tests is None else specfields.LazyTests(hit.tests, origin)
    summary = tuple(map(str, spec.get("SummaryAttributes") or ()))
    if panther:
        functions, requires = _panther_parts(yml, spec, rule_id, summary, panther_root, origin,
                                             panther_requires)
    else:
        py = yml.parent / filename
        py_text = _bytes(py) if caches and caches.pack and not (hit and hit.code) else b""
        module, code = _load_module(py, rule_id, origin, hit.code if hit else None)
        if py_text and _bytes(py) == py_text:  # not edited meanwhile: `code` is its code
            caches.pack.remember(text, spec, py, py_text, code)  # type: ignore[union-attr]
        functions = {"rule": module.rule, "title": getattr(module, "title", None),
                     "dedup": getattr(module, "dedup", None),
                     "alert_context": getattr(module, "alert_context", None),
                     "dynamic_severity": getattr(module, "severity", None)}
        requires = specfields.requires(spec.get("Requires"), origin)
    return Rule(
        rule_id=rule_id,
        display_name=specfields.string(spec, "DisplayName", origin, rule_id),
        enabled=bool(spec.get("Enabled", True)),
        log_types=frozenset(log_types),
        severity=severity,
        description=specfields.string(spec, "Description", origin, ""),
        runbook=specfields.string(spec, "Runbook", origin, ""),
        reference=specfields.string(spec, "Reference", origin, ""),
        mitre=specfields.mitre(spec.get("Reports"), origin),
        dedup_period_minutes=period,
        threshold=threshold,
        summary_attributes=summary,
        tags=tuple(map(str, spec.get("Tags") or ())),
        tests=tests,
        requires=requires,
        source=yml,
        distinct=distinct,
        **functions,
    )


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # _load_module reports it
        return b""


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
            specfields.requires(requires, Origin("kubetrail/panther/requires.yml", rule_id)))


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
    pack_cache: PackCache | None = None,
) -> list[Rule]:
    """Load rules from files/directories (bundled packs by default); duplicate ids are errors.
    `panther_root` serves Panther rules' helpers and data models; `panther_requires=False`
    ignores the side file of Requires for Panther rules (no prefilter for them). The pack cache
    (kubetrail/rules/packcache.py) serves the rule files it holds unchanged; `pack_cache` is
    the one to fill at build time."""
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    roots = list(paths) if paths else [BUNDLED_PACKS]
    cache = Caches(pack_cache or PackCache(roots, bundled=not paths))
    for yml in rule_files(roots):
        rule = load_rule(yml, panther_root, panther_requires=panther_requires, caches=cache)
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
