"""panther-analysis's `data_models/`: per log type, the fields `event.udm(name)` answers.

A data model YAML (AnalysisType datamodel, LogTypes, Mappings, optional Filename) maps each Name
to a `Path` (JSONPath into the record) or a `Method` (a function of the event in its Python
file). Only enabled models of the log types kubetrail reads are loaded. Paths support the forms
data models use: `$.a.b`, `$['a']`, `$.a[0]` and `$.a[*].b` (a wildcard gives the list of the
values found, None when none); any other JSONPath is a configuration error naming the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kubetrail.errors import ConfigError, Origin
from kubetrail.events import CLOUD_BY_LOG_TYPE
from kubetrail.record import record

if TYPE_CHECKING:
    from kubetrail.panther.event import PantherEvent
    from kubetrail.panther.helpers import PantherRoot

Getter = Callable[["PantherEvent"], Any]
_STEP = re.compile(r"\.([A-Za-z_@$][\w@$-]*)|\['([^'\]]*)'\]|\[\"([^\"\]]*)\"\]|\[(\d+)\]|\[(\*)\]")
_WILD: Any = object()


def compile_path(path: str, origin: Origin) -> Getter:
    """A getter for the supported JSONPath subset."""
    steps: list[Any] = []
    rest = path.strip()
    if not rest.startswith("$"):
        raise ConfigError(f"unsupported JSONPath {path!r} (must start with $)", origin)
    pos = 1
    while pos < len(rest):
        m = _STEP.match(rest, pos)
        if not m:
            raise ConfigError(f"unsupported JSONPath {path!r} at {rest[pos:]!r}", origin)
        key, quoted, dquoted, index, wild = m.groups()
        steps.append(_WILD if wild else int(index) if index is not None
                     else key if key is not None else quoted if quoted is not None else dquoted)
        pos = m.end()
    wildcard = _WILD in steps
    if all(isinstance(step, str) for step in steps):
        return _dotted(tuple(steps))

    def get(event: PantherEvent) -> Any:
        values = _select([event], steps)
        if wildcard:
            return values or None
        return values[0] if values else None

    return get


def _dotted(keys: tuple[str, ...]) -> Getter:
    """The common case, `$.a.b`: nested objects only."""

    def get(event: PantherEvent) -> Any:
        value: Any = event
        for key in keys:
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
        return value

    return get


def _select(current: list[Any], steps: list[Any]) -> list[Any]:
    from kubetrail.panther.event import FrozenList

    for step in steps:
        nxt: list[Any] = []
        for value in current:
            if step is _WILD:
                if isinstance(value, FrozenList | list):
                    nxt.extend(value)
                elif isinstance(value, Mapping):
                    nxt.extend(value.values())
            elif isinstance(step, int):
                if isinstance(value, FrozenList | list) and -len(value) <= step < len(value):
                    nxt.append(value[step])
            elif isinstance(value, Mapping) and step in value:
                nxt.append(value[step])
        current = [v for v in nxt if v is not None]
    return current


@record(frozen=True)
class DataModels:
    """Log type → (field name → getter)."""

    by_log_type: Mapping[str, Mapping[str, Getter]]

    def model(self, log_type: Any) -> Mapping[str, Getter]:
        """The fields of one log type (empty when it has no data model)."""
        return self.by_log_type.get(log_type, {}) if isinstance(log_type, str) else {}

    @classmethod
    def load(cls, directory: Path, root: PantherRoot) -> DataModels:
        """Every enabled data model of a log type kubetrail reads, from `directory`."""
        models: dict[str, dict[str, Getter]] = {}
        if not directory.is_dir():
            return cls(models)
        for yml in sorted(directory.rglob("*.yml")):
            origin = Origin(str(yml))
            try:
                spec = yaml.safe_load(yml.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
                raise ConfigError(f"unreadable data model: {exc}", origin) from exc
            if not isinstance(spec, Mapping) or spec.get("AnalysisType") != "datamodel":
                continue
            log_types = [t for t in spec.get("LogTypes") or [] if t in CLOUD_BY_LOG_TYPE]
            if not log_types or spec.get("Enabled") is False:
                continue
            fields = _mappings(yml, spec, root, origin)
            for log_type in log_types:
                if log_type in models:
                    raise ConfigError(f"two data models for {log_type}", origin)
                models[log_type] = fields
        return cls(models)


def _mappings(yml: Path, spec: Mapping[str, Any], root: PantherRoot, origin: Origin
              ) -> dict[str, Getter]:
    module = None
    if spec.get("Filename"):
        name = "kubetrail_datamodel_" + re.sub(r"\W", "_", str(spec.get("DataModelID", yml.stem)))
        module = root.load_module(yml.parent / str(spec["Filename"]), name, origin)
    fields: dict[str, Getter] = {}
    for entry in spec.get("Mappings") or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("Name"), str):
            raise ConfigError("each data model Mapping needs a Name", origin)
        if isinstance(entry.get("Path"), str):
            fields[entry["Name"]] = compile_path(entry["Path"], origin)
        elif isinstance(entry.get("Method"), str) and module is not None:
            method = getattr(module, entry["Method"], None)
            if not callable(method):
                raise ConfigError(f"data model method {entry['Method']} not found", origin)
            fields[entry["Name"]] = method
        else:
            raise ConfigError(f"data model field {entry['Name']} needs a Path or a Method", origin)
    return fields
