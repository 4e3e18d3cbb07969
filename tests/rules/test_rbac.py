"""kubetrail.rules.rbac: policy rules match as the RBAC authorizer matches them."""

from __future__ import annotations

from typing import Any

import pytest

from kubetrail.rules.rbac import (
    MAX_RULES,
    grants_any,
    object_name,
    policy_rules,
    role_ref,
    subjects,
)


def role(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "ClusterRole", "metadata": {"name": "r"}, "rules": list(rules)}


def r(verbs: Any, groups: Any, resources: Any) -> dict[str, Any]:
    return {"verbs": verbs, "apiGroups": groups, "resources": resources}


@pytest.mark.parametrize(("rule", "verb", "group", "resource", "sub", "granted"), [
    (r(["create"], [""], ["pods/exec"]), "create", "", "pods", "exec", True),
    (r(["*"], ["*"], ["*"]), "get", "", "pods", "exec", True),
    (r(["get"], [""], ["*/exec"]), "get", "", "pods", "exec", True),
    (r(["get"], [""], ["pods/*"]), "get", "", "pods", "exec", False),
    (r(["get"], [""], ["pods"]), "get", "", "pods", "exec", False),
    (r(["get"], [""], ["*/exec"]), "get", "", "pods", None, False),
    (r(["Get"], [""], ["pods"]), "get", "", "pods", None, False),
    (r(["get"], ["apps"], ["pods"]), "get", "", "pods", None, False),
    (r(["get"], None, ["pods"]), "get", "", "pods", None, False),  # no apiGroups
    (r("get", [""], ["pods"]), "get", "", "pods", None, False),
    (r(["get", 7], [""], ["pods"]), "get", "", "pods", None, True),
])
def test_rbac_matching(rule: dict[str, Any], verb: str, group: str, resource: str,
                       sub: str | None, granted: bool) -> None:
    assert grants_any(policy_rules(role(rule)), [verb], group, resource, sub) is granted


@pytest.mark.parametrize("obj", [None, {}, {"rules": "x"}, {"rules": [None, 3, "x"]}, []])
def test_malformed_roles_grant_nothing(obj: Any) -> None:
    assert policy_rules(obj) == []


def test_huge_roles_are_read_up_to_a_bound() -> None:
    big = role(*[{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]}] * 10_000,
               {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
    assert len(policy_rules(big)) == MAX_RULES


def test_bindings() -> None:
    binding = {"metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "admin"},
               "subjects": [{"kind": "Group", "name": "system:masters"}, {"kind": 1},
                            {"kind": "ServiceAccount", "name": "x", "namespace": "prod"}, "junk"]}
    assert role_ref(binding) == ("ClusterRole", "admin")
    assert [(s.kind, s.name, s.namespace) for s in subjects(binding)] == [
        ("Group", "system:masters", None), ("ServiceAccount", "x", "prod")]
    assert role_ref({"roleRef": {"kind": "ClusterRole", "name": ["admin"]}}) is None
    assert subjects({"subjects": {"kind": "Group"}}) == []
    assert object_name(binding, None) == "b" and object_name(binding, "given") == "given"
    assert object_name({"metadata": {"name": 5}}, None) is None
