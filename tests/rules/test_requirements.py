"""The values of `Requires`: lists, and the tests `[public]`, `[non-system]` and request-body
keys, as the engine and the prefilter read them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from kubetrail.errors import ConfigError
from kubetrail.rules import load_rules
from kubetrail.rules.network import PUBLIC_SOURCE_IPS
from kubetrail.rules.requirements import (
    NON_SYSTEM_PRINCIPAL,
    SYSTEM_PRINCIPAL,
    RequestKeys,
    requirements,
)
from kubetrail.sources.patches import json_patch_manifest


def test_lists_and_tests_are_parsed_with_the_tests_last() -> None:
    req = requirements({"request_object": ["hostPID"], "username": ["non-system"],
                        "verb": ["create"], "source_ips": ["public"], "resource": ["pods"]})
    assert list(req) == ["verb", "resource", "request_object", "username", "source_ips"]
    assert req["verb"] == frozenset({"create"})
    assert req["username"] is NON_SYSTEM_PRINCIPAL
    assert req["source_ips"] is PUBLIC_SOURCE_IPS
    assert req["request_object"] == RequestKeys(["hostPID"])
    assert requirements({"username": ["alice", "bob"]}) == {"username": {"alice", "bob"}}
    assert requirements({"username": ["system"]})["username"] is SYSTEM_PRINCIPAL


@pytest.mark.parametrize("spec", [
    {"username": ["non-system", "alice"]},  # the test is alone or it is no test
    {"username": ["system", "non-system"]},
    {"request_object": ["spec/hostPID"]},  # a JSON pointer spells "/" as ~1: not a plain key
    {"request_object": ["host~PID"]},
    {"request_object": ["hôte"]},  # non-ASCII
    {"request_object": [""]},
    {"request_object": []},
    {"request_object": "hostPID"},
    {"request_object": [True]},
    {"source_ips": ["private"]},
    {"response_code": ["403"]},
    {"stage": ["ResponseComplete"]},
    ["verb"],
])
def test_malformed_requires_are_refused(spec: Any) -> None:
    with pytest.raises(ValueError, match="Requires must map"):
        requirements(spec)


def test_a_rule_file_with_malformed_requires_names_itself(tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text("RuleID: R\nFilename: r.py\nLogTypes: [Amazon.EKS.Audit]\n"
                                    "Severity: Low\nRequires: {request_object: [a/b]}\n")
    (tmp_path / "r.py").write_text("def rule(e):\n    return True\n")
    with pytest.raises(ConfigError, match=r"r\.yml"):
        load_rules([tmp_path])


@pytest.mark.parametrize(("username", "non_system"), [
    ("alice@example.com", True),
    (None, True),
    ("", True),
    ("system:anonymous", True),  # the unauthenticated are never system principals
    ("system:serviceaccount:default:builder", True),
    ("system:serviceaccount:kube-system:", True),
    ("system:node:ip-10-0-1-2.ec2.internal", False),
    ("system:kube-controller-manager", False),
    ("system:serviceaccount:kube-system:replicaset-controller", False),
    ("aksService", False),
    ("aksService ", True),
])
def test_non_system_principal_is_the_packs_exact_notion(username: str | None,
                                                        non_system: bool) -> None:
    assert (username in NON_SYSTEM_PRINCIPAL) is non_system
    assert (username in SYSTEM_PRINCIPAL) is not non_system
    assert NON_SYSTEM_PRINCIPAL.isdisjoint([username]) is not non_system
    assert SYSTEM_PRINCIPAL.isdisjoint([username, "alice"]) is non_system
    assert list(NON_SYSTEM_PRINCIPAL) == ["non-system"]
    assert list(SYSTEM_PRINCIPAL) == ["system"]


@pytest.mark.parametrize(("body", "has"), [
    ({"spec": {"containers": [{"securityContext": {"privileged": True}}]}}, True),
    ({"spec": {"template": {"spec": {"initContainers": [{"securityContext": {
        "windowsOptions": {"hostProcess": True}}}]}}}}, True),
    ({"spec": {"containers": [{"env": [{"name": "privileged", "value": "hostProcess"}]}]}},
     False),  # values are not keys
    ({"metadata": {"annotations": {"x": "privileged: true"}}}, False),
    ({"spec": {"containers": [[[{"privileged": 1}]]]}}, True),  # any depth, through lists
    ({"Privileged": True}, False),  # exact spelling
    (None, False),
    ({}, False),
    # a JSON patch is judged as the manifest it writes: the keys come from its paths
    (json_patch_manifest([{"op": "add", "value": True,
                           "path": "/spec/containers/0/securityContext/privileged"}]), True),
    (json_patch_manifest([{"op": "move", "from": "/x",
                           "path": "/spec/containers/0/securityContext/privileged"}]), True),
    (json_patch_manifest([{"op": "test", "value": True,
                           "path": "/spec/containers/0/securityContext/privileged"}]), False),
])
def test_request_keys_are_looked_for_at_any_depth(body: Any, has: bool) -> None:
    keys = RequestKeys(["privileged", "hostProcess"])
    assert (body in keys) is has
    assert (body in keys) is has  # the second answer comes from the kept one
    assert list(keys) == ["hostProcess", "privileged"]
    assert keys.needles == (b"hostProcess", b"privileged")


def test_request_keys_answer_for_each_body_not_the_last_one() -> None:
    keys = RequestKeys(["hostPID"])
    with_key, without = {"spec": {"hostPID": True}}, {"spec": {"hostNetwork": True}}
    assert with_key in keys
    assert without not in keys
    assert with_key in keys
    without["spec"]["hostPID"] = True  # a new body each time: the decoder never reuses one
    assert {"spec": dict(without["spec"])} in keys


def test_deep_bodies_are_walked_without_recursion() -> None:
    body: Any = {"hostIPC": True}
    for _ in range(100_000):
        body = {"a": [body]}
    assert body in RequestKeys(["hostIPC"])
    assert body not in RequestKeys(["hostPID"])


def _keys_by_definition(body: Any) -> set[str]:
    """Every str key of every Mapping reached through Mappings and lists (the meaning of
    `request_object: [keys]`), written the plain recursive way as the reference."""
    if isinstance(body, Mapping):
        found = {k for k in body if isinstance(k, str)}
        for value in body.values():
            found |= _keys_by_definition(value)
        return found
    if isinstance(body, list):
        return set().union(*map(_keys_by_definition, body)) if body else set()
    return set()


class _StrKey(str):
    pass


class _Dict(dict):  # type: ignore[type-arg]
    pass


class _List(list):  # type: ignore[type-arg]
    pass


@pytest.mark.parametrize("body", [
    {"a": {"b": [{"c": 1}, [{"d": None}], "e"]}, "f": [1.5, True, "g"]},
    MappingProxyType({"hostPID": True, "x": {"y": 1}}),  # a Mapping that is not a dict
    {"spec": MappingProxyType({"hostPID": {"z": 1}})},
    {"a": ({"hostPID": 1},), "b": ({"c": 1},)},  # tuples are not walked
    {1: {"hostPID": 1}, (2, 3): "x", "k": {4.5: {"m": 1}}},  # non-str keys are not keys
    {_StrKey("hostPID"): 1, "v": _StrKey("notakey")},
    _Dict(hostPID=1, inner=_List([_Dict(deep=1)])),
    [{"top": [{"hostIPC": 1}]}],
    "hostPID", 7, None, (), {"only": _List()},
])
def test_request_keys_of_any_body_are_its_keys_by_definition(body: Any) -> None:
    expected = _keys_by_definition(body)
    for key in ["hostPID", "hostIPC", "deep", "m", "top", "notakey", "only", "y", "z", "c"]:
        assert (body in RequestKeys([key])) is (key in expected), key


def test_only_string_keys_are_kept() -> None:
    from kubetrail.rules.requirements import _all_keys

    class Equal:  # a key that would pass for "hostPID" if it were kept
        def __eq__(self, other: object) -> bool:
            return True

        def __hash__(self) -> int:
            return hash("hostPID")

    assert {Equal(): 1, "a": {2: 3}} not in RequestKeys(["hostPID"])
    assert _all_keys({Equal(): 1, "a": {2: 3}}) == {"a"}


@pytest.mark.parametrize("keys", [
    (b"capabilities", b"hostIPC", b"hostNetwork", b"hostPID", b"hostPath", b"hostProcess",
     b"local", b"privileged"),
    (b"host", b"hostPID", b"ab", b"abcdef", b"x"),
    (b"a.b", b"a.bc", b"a-b"),
])
def test_body_text_holds_a_key_when_its_text_spells_one(keys: tuple[bytes, ...]) -> None:
    import random
    import re

    import msgspec

    from kubetrail.rules.requirements import BodyText

    escapes = re.compile(rb"\\u00(?:6[89])")
    test = BodyText(keys, escapes)
    pieces = [*keys, *(k[:n] for k in keys for n in range(1, len(k))), b'"', b":", b"{", b"}",
              b"host", b"hostX", b"\\u0068", b"\\u0041", b"zz"]
    rng = random.Random(7)
    for _ in range(3000):
        text = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        assert (msgspec.Raw(text) in test) is (
            any(k in text for k in keys) or escapes.search(text) is not None), text
