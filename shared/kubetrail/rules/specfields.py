"""A rule file's YAML keys, validated into the fields of a Rule (kubetrail/rules/loader.py): the
strings, MITRE ATT&CK references, `Requires`, `Distinct` and `Tests`. Every check raises a
ConfigError naming the rule file."""

from __future__ import annotations

import marshal
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

from kubetrail import record as records
from kubetrail.dedup.window import MAX_DISTINCT
from kubetrail.errors import ConfigError, Origin
from kubetrail.events import AuditEvent
from kubetrail.record import record
from kubetrail.rules.requirements import requirements

SEVERITIES = ("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")  # lowest to highest: the rank order
# AuditEvent fields a `Distinct:` may name: the scalar ones and the string tuples (not the raw
# record, the request object or the time).
DISTINCT_FIELDS = frozenset(f.name for f in records.fields(AuditEvent)
                            if f.name not in ("raw", "request_object", "time"))
_MITRE = re.compile(r"^(TA\d{4}):(T\d{4}(?:\.\d{3})?)$")


@record(frozen=True, slots=True)
class RuleTest:
    """One entry of a rule's `Tests`: a Panther-shaped log and whether the rule should match."""

    name: str
    expected: bool
    log: Mapping[str, Any]
    mocks: tuple[tuple[str, Any], ...] = ()  # (objectName, returnValue): Panther's Mocks


def string(spec: Mapping[str, Any], key: str, origin: Origin, default: str | None = None) -> str:
    """A string key, stripped (except `Runbook`, kept as written)."""
    value = spec.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string", origin)
    return value.strip() if key != "Runbook" else value


def mitre(reports: Any, origin: Origin) -> tuple[tuple[str, str], ...]:
    """`Reports: {MITRE ATT&CK: [TAxxxx:Txxxx, ...]}` as (tactic, technique) pairs."""
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


def requires(spec: Any, origin: Origin) -> Mapping[str, Any]:
    """kubetrail extension `Requires`: event fields and the values the rule can only match with.
    The engine checks them before calling rule(), and the prefilter is derived from them
    (the values and their tests: kubetrail.rules.requirements)."""
    if spec is None:
        return {}
    try:
        return requirements(spec)
    except ValueError as exc:
        raise ConfigError(str(exc), origin) from exc


def distinct(spec: Mapping[str, Any], threshold: int, origin: Origin) -> str | None:
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


def tests(raw: Any, origin: Origin) -> tuple[RuleTest, ...]:
    """`Tests: [{Name, ExpectedResult, Log, Mocks}, ...]`."""
    out = []
    for i, t in enumerate(raw or []):
        if not isinstance(t, Mapping) or not isinstance(t.get("Log"), Mapping):
            raise ConfigError(f"Tests[{i}] needs Name, ExpectedResult and a Log mapping", origin)
        out.append(RuleTest(str(t.get("Name", f"test {i}")), bool(t.get("ExpectedResult")),
                            t["Log"], _mocks(t.get("Mocks"), origin)))
    return tuple(out)


def _mocks(spec: Any, origin: Origin) -> tuple[tuple[str, Any], ...]:
    """A test's Mocks: [{objectName, returnValue}, ...]."""
    if not spec:
        return ()
    if not isinstance(spec, list) or not all(
            isinstance(m, Mapping) and isinstance(m.get("objectName"), str) for m in spec):
        raise ConfigError("Mocks must be a list of {objectName, returnValue}", origin)
    return tuple((m["objectName"], m.get("returnValue")) for m in spec)


class LazyTests(Sequence[RuleTest]):
    """A rule's Tests kept as the marshalled `Tests:` list of its YAML (kubetrail/rules/
    packcache.py) and built on first use: a scan never reads them, and they are most of a
    pack's YAML. Compares equal to the tuple of the same tests."""

    __slots__ = ("_blob", "_items", "_origin")

    def __init__(self, blob: bytes, origin: Origin) -> None:
        self._blob, self._origin = blob, origin
        self._items: tuple[RuleTest, ...] | None = None

    def _built(self) -> tuple[RuleTest, ...]:
        if self._items is None:
            try:
                raw = marshal.loads(self._blob)  # noqa: S302 - written by packcache.py
            except Exception:  # a damaged cache entry: the rule file's own Tests
                raw = None
            if type(raw) is not list:
                raw = _reparsed_tests(self._origin)
            self._items = tests(raw, self._origin)
        return self._items

    @overload
    def __getitem__(self, index: int) -> RuleTest: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[RuleTest, ...]: ...
    def __getitem__(self, index: int | slice) -> RuleTest | tuple[RuleTest, ...]:
        return self._built()[index]

    def __len__(self) -> int:
        return len(self._built())

    def __iter__(self) -> Iterator[RuleTest]:
        return iter(self._built())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyTests):
            other = other._built()
        return self._built() == other

    def __hash__(self) -> int:
        return hash(self._built())

    def __repr__(self) -> str:
        return repr(self._built())


def _reparsed_tests(origin: Origin) -> Any:
    """The `Tests` of the rule file `origin` names, parsed from the file."""
    from pathlib import Path

    from kubetrail.rules.loader import parse_yaml

    try:
        spec = parse_yaml(Path(origin.source).read_bytes())
    except Exception as exc:  # OSError, yaml.YAMLError, UnicodeDecodeError
        raise ConfigError(f"unreadable rule file: {exc}", origin) from exc
    return spec.get("Tests") if isinstance(spec, Mapping) else None

