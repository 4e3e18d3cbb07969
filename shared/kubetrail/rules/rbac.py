"""What an RBAC object in a request grants: the policy rules of a Role/ClusterRole and the
roleRef/subjects of a (Cluster)RoleBinding, read from the manifest the user sent.

Matching follows the API server's RBAC authorizer exactly: verbs, API groups and resources
compare case-sensitively, `*` matches anything, and `*/<subresource>` matches that subresource
of any resource. Anything that is not the expected JSON type (an attacker-crafted manifest the
API server would reject anyway) grants nothing; at most MAX_RULES rules and MAX_ITEMS entries
per list are read, so a huge manifest costs bounded work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubetrail.record import record

RBAC_GROUP = "rbac.authorization.k8s.io"
ROLE_RESOURCES = frozenset({"roles", "clusterroles"})
BINDING_RESOURCES = frozenset({"rolebindings", "clusterrolebindings"})
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
WILDCARD = "*"
MAX_RULES = 256
MAX_ITEMS = 256


def _strings(value: Any) -> frozenset[str]:
    if not isinstance(value, list):
        return frozenset()
    return frozenset(v for v in value[:MAX_ITEMS] if isinstance(v, str))


@record(frozen=True, slots=True)
class PolicyRule:
    """One entry of a role's `rules`."""

    verbs: frozenset[str]
    api_groups: frozenset[str]
    resources: frozenset[str]
    non_resource_urls: frozenset[str]

    def allows_verb(self, verb: str) -> bool:
        return WILDCARD in self.verbs or verb in self.verbs

    def allows_group(self, group: str) -> bool:
        return WILDCARD in self.api_groups or group in self.api_groups

    def allows_resource(self, resource: str, subresource: str | None = None) -> bool:
        if WILDCARD in self.resources:
            return True
        if subresource is None:
            return resource in self.resources
        return f"{resource}/{subresource}" in self.resources or f"*/{subresource}" in self.resources

    def grants(self, verb: str, group: str, resource: str, subresource: str | None = None) -> bool:
        """The rule allows `verb` on `group`/`resource`[/`subresource`] (core group: "")."""
        return (self.allows_verb(verb) and self.allows_group(group)
                and self.allows_resource(resource, subresource))


def policy_rules(request_object: Mapping[str, Any] | None) -> list[PolicyRule]:
    """The rules of a Role/ClusterRole manifest (bounded; malformed entries are skipped)."""
    if not isinstance(request_object, Mapping):
        return []
    rules = request_object.get("rules")
    if not isinstance(rules, list):
        return []
    return [PolicyRule(_strings(r.get("verbs")), _strings(r.get("apiGroups")),
                       _strings(r.get("resources")), _strings(r.get("nonResourceURLs")))
            for r in rules[:MAX_RULES] if isinstance(r, Mapping)]


def grants_any(rules: Iterable[PolicyRule], verbs: Iterable[str], group: str, resource: str,
               subresource: str | None = None) -> bool:
    """Some rule allows one of `verbs` on the resource."""
    wanted = tuple(verbs)
    return any(r.grants(v, group, resource, subresource) for r in rules for v in wanted)


@record(frozen=True, slots=True)
class Subject:
    """One subject of a binding."""

    kind: str
    name: str
    namespace: str | None


def role_ref(request_object: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """(kind, name) of a binding's roleRef, None when absent or malformed."""
    ref = request_object.get("roleRef") if isinstance(request_object, Mapping) else None
    if not isinstance(ref, Mapping):
        return None
    kind, name = ref.get("kind"), ref.get("name")
    return (kind, name) if isinstance(kind, str) and isinstance(name, str) else None


def subjects(request_object: Mapping[str, Any] | None) -> list[Subject]:
    """A binding's subjects (bounded; malformed entries are skipped)."""
    raw = request_object.get("subjects") if isinstance(request_object, Mapping) else None
    if not isinstance(raw, list):
        return []
    out = []
    for s in raw[:MAX_ITEMS]:
        if not isinstance(s, Mapping):
            continue
        kind, name, ns = s.get("kind"), s.get("name"), s.get("namespace")
        if isinstance(kind, str) and isinstance(name, str):
            out.append(Subject(kind, name, ns if isinstance(ns, str) else None))
    return out


def object_name(request_object: Mapping[str, Any] | None, fallback: str | None) -> str | None:
    """The object's name: objectRef.name when the request has one (update, patch, delete),
    else metadata.name of the manifest (a create's objectRef often has none), else its
    generateName followed by `*`."""
    if fallback:
        return fallback
    meta = request_object.get("metadata") if isinstance(request_object, Mapping) else None
    if not isinstance(meta, Mapping):
        return None
    name, prefix = meta.get("name"), meta.get("generateName")
    if isinstance(name, str) and name:
        return name
    # generateName: the API server appends a random suffix (`system:` + suffix is still a
    # system-looking name), shown with a trailing `*`.
    return prefix + "*" if isinstance(prefix, str) and prefix else None
