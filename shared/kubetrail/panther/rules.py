"""A Panther rule file, unchanged, as a kubetrail Rule: its functions receive a PantherEvent built
(once per event, only when a Panther rule looks at it) from the delivered record.

Which rules are Panther's: a rule is kubetrail's own when its YAML has kubetrail's `Requires` key,
its Python file imports the `kubetrail` package (as a native rule does for `AuditEvent`), or one
of its functions reads an AuditEvent field as an attribute of its event argument (`event.verb`:
a Panther event has no such attribute, so no Panther rule does). Every other rule is Panther's.
No flag per rule, and a Panther file is never edited.

Panther's semantics, as documented by Panther:
- rule(event) → truthy to match. title() → the alert title, else DisplayName, else RuleID.
- dedup() → the dedup string, else the title() if the rule has one, else
  `defaultDedupString:<RuleID>`; cut to 1000 characters.
- severity() → a severity or "DEFAULT" (the YAML's Severity); alert_context() → a mapping.
- description(), reference(), runbook() override the YAML's fields in the finding.
- destinations() → a list of destination names, carried in the finding (`destinations`) for
  subscribers to route on; a list holding "SKIP" suppresses the alert (no finding, no dedup).
- SummaryAttributes: the finding's `summary` maps each to its value (`a:b` descends into
  objects; a data model field name answers through udm when the record has no such key).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from kubetrail import record as records
from kubetrail.errors import ConfigError, Origin
from kubetrail.events import AuditEvent
from kubetrail.panther.event import PantherEvent, thaw
from kubetrail.panther.helpers import PantherRoot, exec_module
from kubetrail.panther.records import panther_record

MAX_DEDUP_CHARS = 1000
# The log types on which the engine checks a Panther rule's Requires against the AuditEvent:
# there the normalizer reads the same fields (audit Event objectRef/verb) as Panther's data model.
# A GKE LogEntry's data model reads resourceName where kubetrail reads methodName: only the
# byte prefilter (every value is literally in the entry's text) applies to it.
REQUIRES_CHECKED_ON = frozenset({"Amazon.EKS.Audit", "Azure.MonitorActivity"})


# What a native rule reads from its AuditEvent (fields and properties).
_EVENT_ATTRIBUTES = frozenset(
    {f.name for f in records.fields(AuditEvent)} | {"completed", "failed", "dry_run"})
_RULE_FUNCTIONS = frozenset({"rule", "title", "dedup", "severity", "alert_context"})


def _reads_event_attributes(tree: ast.Module) -> bool:
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef) or fn.name not in _RULE_FUNCTIONS \
                or not fn.args.args:
            continue
        param = fn.args.args[0].arg
        for node in ast.walk(fn):
            if isinstance(node, ast.Attribute) and node.attr in _EVENT_ATTRIBUTES \
                    and isinstance(node.value, ast.Name) and node.value.id == param:
                return True
    return False


def is_native_source(source: str) -> bool:
    """Whether Python rule source is kubetrail's: it imports the kubetrail package, or a rule
    function reads an AuditEvent field from its event argument."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return True  # the native loader reports the error
    if _reads_event_attributes(tree):
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
                a.name == "kubetrail" or a.name.startswith("kubetrail.") for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == "kubetrail" or node.module.startswith("kubetrail.")):
            return True
    return False


def is_panther_rule(spec: Mapping[str, Any], py: Path) -> bool:
    """A rule file is Panther's unless it carries kubetrail's keys (Requires, Distinct) or its
    source is kubetrail's (is_native_source)."""
    if "Requires" in spec or "Distinct" in spec:
        return False
    try:
        return not is_native_source(py.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False  # the native loader reports it


class Viewer:
    """The PantherEvent of an AuditEvent, built on first use and kept for the next rules that
    look at the same event (one slot: the engine runs every rule on one event in turn)."""

    def __init__(self, root: PantherRoot | None) -> None:
        self.root = root
        self._last: tuple[AuditEvent, PantherEvent] | None = None

    def __call__(self, event: AuditEvent) -> PantherEvent:
        last = self._last
        if last is not None and last[0] is event:
            return last[1]
        view = self.view(panther_record(event, datetime.now(UTC)))
        self._last = (event, view)
        return view

    def view(self, record: Mapping[str, Any], log_type: str | None = None) -> PantherEvent:
        """A PantherEvent over a Panther record, with the data model of its log type."""
        model = self.root.data_models.model(record.get("p_log_type") or log_type) \
            if self.root else {}
        return PantherEvent(record, model)


_VIEWERS: dict[PantherRoot | None, Viewer] = {}


def viewer_for(root: PantherRoot | None) -> Viewer:
    """One Viewer per root, shared by its rules."""
    if root not in _VIEWERS:
        _VIEWERS[root] = Viewer(root)
    return _VIEWERS[root]


def load_module(py: Path, rule_id: str, root: PantherRoot | None, origin: Origin) -> ModuleType:
    """The rule's Python file, executed with the root's helpers importable."""
    name = "kubetrail_panther_rule_" + re.sub(r"\W", "_", rule_id)
    if root is None:
        module = exec_module(py, name, origin)
    else:
        root.data_models  # noqa: B018 - load (and check) the data models with the rules
        module = root.load_module(py, name, origin)
    if not callable(getattr(module, "rule", None)):
        raise ConfigError(f"{py.name} defines no rule(event)", origin)
    return module


def _function(module: ModuleType, name: str) -> Callable[[Any], Any] | None:
    fn = getattr(module, name, None)
    return fn if callable(fn) else None


def panther_functions(module: ModuleType, rule_id: str, root: PantherRoot | None,
                      summary_attributes: tuple[str, ...]) -> dict[str, Any]:
    """The Rule fields (functions over AuditEvent) that run the module's functions."""
    viewer = viewer_for(root)
    rule, title, dedup = module.rule, _function(module, "title"), _function(module, "dedup")
    destinations = _function(module, "destinations")

    def matches(event: AuditEvent) -> bool:
        view = viewer(event)
        if not rule(view):
            return False
        return destinations is None or not skipped(destinations, view)

    def dedup_string(event: AuditEvent) -> str:
        view = viewer(event)
        value = dedup(view) if dedup is not None else None
        if not value and title is not None:
            try:
                value = title(view)
            except Exception:
                value = None  # the engine reports title()'s own error
        return str(value)[:MAX_DEDUP_CHARS] if value else f"defaultDedupString:{rule_id}"

    def annotate(event: AuditEvent) -> dict[str, Any]:
        return finding_fields(module, viewer(event), summary_attributes)

    return {
        "rule": PantherCall(matches, module, root),
        "title": _on_view(viewer, title),
        "dedup": dedup_string,
        "dynamic_severity": _on_view(viewer, _function(module, "severity")),
        "alert_context": _on_view(viewer, _function(module, "alert_context"), thaw),
        "annotate": annotate,
        "requires_log_types": REQUIRES_CHECKED_ON,
    }


def skipped(destinations: Callable[[Any], Any], view: PantherEvent) -> bool:
    """destinations() asked for no alert (["SKIP"]); a failing destinations() does not."""
    try:
        chosen = destinations(view)
    except Exception:
        return False
    return isinstance(chosen, list | tuple) and "SKIP" in chosen


def finding_fields(module: ModuleType, view: PantherEvent, summary_attributes: tuple[str, ...]
                ) -> dict[str, Any]:
    """Finding fields from description/reference/runbook/destinations() and SummaryAttributes."""
    out: dict[str, Any] = {}
    for name in ("description", "reference", "runbook"):
        fn = _function(module, name)
        if fn is not None and (value := fn(view)):
            out[name] = str(value)
    fn = _function(module, "destinations")
    if fn is not None and isinstance(chosen := fn(view), list | tuple):
        out["destinations"] = [str(d) for d in chosen]
    if summary_attributes:
        out["summary"] = {a: thaw(summary_value(view, a)) for a in summary_attributes}
    return out


def summary_value(view: PantherEvent, attribute: str) -> Any:
    """A SummaryAttribute's value: the record's field (`a:b` nested), else the data model's."""
    value = view.deep_get(*attribute.split(":"))
    return view.udm(attribute) if value is None else value


def _on_view(viewer: Viewer, fn: Callable[[Any], Any] | None,
             convert: Callable[[Any], Any] | None = None) -> Callable[[AuditEvent], Any] | None:
    if fn is None:
        return None
    if convert is None:
        return lambda event: fn(viewer(event))
    return lambda event: convert(fn(viewer(event)))


class PantherCall:
    """A Panther rule's rule() over AuditEvents; keeps the module and root for the test runner."""

    __slots__ = ("_matches", "module", "root")

    def __init__(self, matches: Callable[[AuditEvent], bool], module: ModuleType,
                 root: PantherRoot | None) -> None:
        self._matches = matches
        self.module = module
        self.root = root

    def __call__(self, event: AuditEvent) -> bool:
        return self._matches(event)
