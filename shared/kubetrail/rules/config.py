"""The rules configuration file (YAML): enable or disable rules and tags, override severity and
dedup period, and allowlist per rule. Applied to loaded rules; validated with errors naming the
key. docs/rules.md documents the format; in short:

    tags:                                 # by tag, exact (case-sensitive) tag names
      Interactive Access: {enabled: false}
    allowlist:                            # entries applied to every rule
      - users: [ci-deployer@corp.example]
        namespaces: [ci]
    rules:
      Kubernetes.Pod.Exec:
        enabled: true                     # beats any tag setting
        severity: HIGH                    # fixes the severity (dynamic severity is ignored)
        dedup_period_minutes: 30
        allowlist:
          - source_cidrs: [10.0.0.0/8]

An allowlist entry suppresses a match only when *every* key it names holds; a rule's match is
suppressed when any entry (the rule's own or a global one) holds. Each key is exact:

* users: the username equals one of the strings;
* namespaces: the namespace equals one of the strings (a cluster-scoped request has none);
* images: the request's manifest names at least one image and *every* image equals an entry, or
  starts with an entry that ends in `/` (a registry or repository path); only a manifest that
  holds every container counts (a create, an update, added ephemeral containers), never a patch
  of a workload, which can add a trusted decoy container next to a risky pod-level setting;
* source_cidrs: the request has at least one source IP and *every* source IP (forwarded-for
  values included, so a forged header cannot vouch for a foreign address) is in one of them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kubetrail.errors import ConfigError, Origin
from kubetrail.events import AuditEvent
from kubetrail.record import record, replace
from kubetrail.rules.loader import SEVERITIES, Rule
from kubetrail.rules.podspec import containers, pod_spec
from kubetrail.rules.requests import creation

ENV_VAR = "KUBETRAIL_CONFIG"
_TOP = frozenset({"rules", "tags", "allowlist"})
_RULE_KEYS = frozenset({"enabled", "severity", "dedup_period_minutes", "allowlist"})
_ENTRY_KEYS = ("users", "namespaces", "images", "source_cidrs")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@record(frozen=True, slots=True)
class AllowEntry:
    """One allowlist entry: every non-None field must hold for it to suppress a match."""

    users: frozenset[str] | None = None
    namespaces: frozenset[str] | None = None
    images: tuple[str, ...] | None = None
    source_cidrs: tuple[Network, ...] | None = None

    def holds(self, event: AuditEvent) -> bool:
        """True when this entry covers the event (see the module doc for each key)."""
        if self.users is not None and event.username not in self.users:
            return False
        if self.namespaces is not None and event.namespace not in self.namespaces:
            return False
        if self.images is not None and not _images_allowed(event, self.images):
            return False
        return self.source_cidrs is None or _ips_allowed(event.source_ips, self.source_cidrs)


def _images_allowed(event: AuditEvent, allowed: tuple[str, ...]) -> bool:
    if not _whole_pod_spec(event):
        return False
    spec = pod_spec(event.request_object, event.resource)
    images = [c.get("image") for _, c in containers(spec)]
    if not images:
        return False
    return all(isinstance(i, str) and any(i == a or (a.endswith("/") and i.startswith(a))
                                          for a in allowed) for i in images)


def _whole_pod_spec(event: AuditEvent) -> bool:
    """The request carries every container the pods will run: a create, an update, or the
    ephemeral containers being added. A patch (strategic merge, JSON or server-side apply that
    may not have created) carries only what it changes: a trusted decoy image next to a
    `hostPID: true` says nothing of the containers already in the template."""
    if event.subresource == "ephemeralcontainers" or event.verb == "update":
        return True
    return creation(event) == "created"


def _ips_allowed(ips: Sequence[str], networks: tuple[Network, ...]) -> bool:
    if not ips:
        return False
    for text in ips:
        try:
            ip = ipaddress.ip_address(text.strip())
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not any(ip.version == n.version and ip in n for n in networks):
            return False
    return True


@record(frozen=True, slots=True)
class RuleOverride:
    """What the file says about one rule."""

    enabled: bool | None = None
    severity: str | None = None
    dedup_period_minutes: int | None = None
    allowlist: tuple[AllowEntry, ...] = ()


@record(frozen=True, slots=True)
class RulesConfig:
    """A validated configuration file; `apply` turns loaded rules into configured ones."""

    rules: Mapping[str, RuleOverride]
    tags: Mapping[str, bool]
    allowlist: tuple[AllowEntry, ...] = ()

    def apply(self, rules: Sequence[Rule]) -> list[Rule]:
        """Every rule with its settings (enabled ones and disabled ones: filter on `enabled`).
        Unknown rule ids and tags are errors: a typo must not silently allow everything."""
        ids = {r.rule_id for r in rules}
        tags = {t for r in rules for t in r.tags}
        for rid in self.rules:
            if rid not in ids:
                raise ConfigError(f"config: rules.{rid}: no loaded rule has this RuleID")
        for tag in self.tags:
            if tag not in tags:
                raise ConfigError(f"config: tags.{tag}: no loaded rule has this tag")
        return [self._configure(r) for r in rules]

    def _configure(self, rule: Rule) -> Rule:
        o = self.rules.get(rule.rule_id, RuleOverride())
        enabled = rule.enabled
        tag_settings = [self.tags[t] for t in rule.tags if t in self.tags]
        if tag_settings:
            enabled = all(tag_settings)  # a disabled tag wins over an enabled one
        if o.enabled is not None:
            enabled = o.enabled
        changes: dict[str, Any] = {"enabled": enabled}
        if o.severity is not None:
            changes.update(severity=o.severity, dynamic_severity=None)
        if o.dedup_period_minutes is not None:
            changes["dedup_period_minutes"] = o.dedup_period_minutes
        entries = self.allowlist + o.allowlist
        if entries:
            changes["rule"] = _allowlisted(rule.rule, entries)
        return replace(rule, **changes)


def _allowlisted(fn: Callable[[Any], Any], entries: tuple[AllowEntry, ...]
                 ) -> Callable[[Any], Any]:
    def rule(event: Any) -> Any:
        if isinstance(event, AuditEvent) and any(e.holds(event) for e in entries):
            return False
        return fn(event)
    return rule


def _strings(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(
            isinstance(v, str) and v and v.isprintable() for v in value):
        raise ConfigError(f"config: {key}: must be a non-empty list of non-empty strings")
    return value


def _entry(value: Any, key: str) -> AllowEntry:
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(f"config: {key}: must be a mapping of some of {list(_ENTRY_KEYS)}")
    unknown = sorted(set(map(str, value)) - set(_ENTRY_KEYS))
    if unknown:
        raise ConfigError(f"config: {key}.{unknown[0]}: unknown key (use {list(_ENTRY_KEYS)})")
    fields: dict[str, Any] = {}
    for name in ("users", "namespaces"):
        if name in value:
            fields[name] = frozenset(_strings(value[name], f"{key}.{name}"))
    if "images" in value:
        fields["images"] = tuple(_strings(value["images"], f"{key}.images"))
    if "source_cidrs" in value:
        nets = []
        for i, text in enumerate(_strings(value["source_cidrs"], f"{key}.source_cidrs")):
            try:
                nets.append(ipaddress.ip_network(text.strip(), strict=True))
            except ValueError as exc:
                raise ConfigError(f"config: {key}.source_cidrs[{i}]: {exc}") from exc
        fields["source_cidrs"] = tuple(nets)
    return AllowEntry(**fields)


def _allowlist(value: Any, key: str) -> tuple[AllowEntry, ...]:
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"config: {key}: must be a list of entries (or one entry)")
    return tuple(_entry(v, f"{key}[{i}]") for i, v in enumerate(value))


def _override(value: Any, key: str) -> RuleOverride:
    if not isinstance(value, Mapping):
        raise ConfigError(f"config: {key}: must be a mapping")
    unknown = sorted(set(map(str, value)) - _RULE_KEYS)
    if unknown:
        raise ConfigError(f"config: {key}.{unknown[0]}: unknown key (use {sorted(_RULE_KEYS)})")
    enabled = value.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise ConfigError(f"config: {key}.enabled: must be true or false")
    severity = value.get("severity")
    if severity is not None:
        if not isinstance(severity, str) or severity.upper() not in SEVERITIES:
            raise ConfigError(f"config: {key}.severity: must be one of {list(SEVERITIES)}")
        severity = severity.upper()
    period = value.get("dedup_period_minutes")
    if period is not None and (type(period) is not int or not 1 <= period <= 525_600):
        raise ConfigError(f"config: {key}.dedup_period_minutes: must be an integer from 1 to "
                          "525600 (a year)")
    allow = _allowlist(value["allowlist"], f"{key}.allowlist") if "allowlist" in value else ()
    return RuleOverride(enabled, severity, period, allow)


def parse_config(data: Any) -> RulesConfig:
    """Validate a parsed YAML document; ConfigError names the first bad key."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError("config: the file must be a mapping with some of rules, tags, allowlist")
    unknown = sorted(set(map(str, data)) - _TOP)
    if unknown:
        raise ConfigError(f"config: {unknown[0]}: unknown key (use {sorted(_TOP)})")
    rules_spec, tags_spec = data.get("rules") or {}, data.get("tags") or {}
    if not isinstance(rules_spec, Mapping) or not isinstance(tags_spec, Mapping):
        raise ConfigError("config: rules and tags must be mappings")
    rules = {str(rid): _override(v, f"rules.{rid}") for rid, v in rules_spec.items()}
    tags: dict[str, bool] = {}
    for tag, v in tags_spec.items():
        if not (isinstance(v, Mapping) and set(v) == {"enabled"}
                and isinstance(v["enabled"], bool)):
            raise ConfigError(f"config: tags.{tag}: must be {{enabled: true|false}}")
        tags[str(tag)] = v["enabled"]
    allow = _allowlist(data["allowlist"], "allowlist") if data.get("allowlist") is not None else ()
    return RulesConfig(rules, tags, allow)


def load_config(path: Path | str) -> RulesConfig:
    """Read and validate a configuration file."""
    import yaml  # here, not at import: a scan without a configuration file never needs it

    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"config: unreadable: {exc}", Origin(str(path))) from exc
    try:
        return parse_config(data)
    except ConfigError as exc:
        raise ConfigError(exc.message, Origin(str(path))) from exc


def configured_rules(rules: Sequence[Rule], config: Path | str | None) -> list[Rule]:
    """The enabled rules after the configuration file (None: the rules as loaded)."""
    if config is None:
        return [r for r in rules if r.enabled]
    return [r for r in load_config(config).apply(rules) if r.enabled]


def rules_for_function(env: Mapping[str, str], function_dir: Path) -> list[Rule]:
    """The rules a cloud function runs (bundled + packaged, kubetrail/rules/deployed.py): after
    the file `KUBETRAIL_CONFIG` names, a path relative to the function's directory (the file is
    packaged with the function) or absolute (e.g. a Lambda layer under /opt). Unset or empty:
    the rules as loaded. A missing or invalid file is a ConfigError at cold start, never another
    rule set."""
    from kubetrail.rules.deployed import deployed_rules

    name = (env.get(ENV_VAR) or "").strip()
    # The bundled packs plus the rules and Panther root packaged with the function (deployed.py).
    rules = deployed_rules(function_dir, env, include_disabled=True)
    if not name:
        return [r for r in rules if r.enabled]
    return configured_rules(rules, function_dir / name)  # an absolute name stays as it is
