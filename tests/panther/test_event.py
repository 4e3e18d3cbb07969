"""PantherEvent: the read-only, case-insensitive mapping a Panther rule receives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from kubetrail.panther.event import FrozenList, FrozenMapping, PantherEvent

RECORD = {
    "kind": "Event",
    "objectRef": {"resource": "pods", "namespace": "default"},
    "user": {"username": "alice", "groups": ["system:authenticated", "devs"]},
    "requestObject": {"spec": {"containers": [
        {"name": "a", "securityContext": {"privileged": True}},
        {"name": "b", "ports": [{"containerPort": 80}, {"containerPort": 443}]},
        {"name": "c", "ports": [{"containerPort": 80}]},
    ]}},
    "p_any_ip_addresses": ["203.0.113.7"],
    "p_udm": {"user": {"email": "alice@example.com"}},
    "empty": None,
}


def test_keys_match_case_insensitively_at_every_level_and_the_exact_key_wins() -> None:
    ev = PantherEvent({**RECORD, "OBJECTREF": {"resource": "secrets"}})
    assert ev["objectref"]["RESOURCE"] == "pods"      # objectRef exists: it wins
    assert ev["OBJECTREF"]["resource"] == "secrets"   # the exact spelling wins
    assert ev.deep_get("USER", "UserName") == "alice"
    assert "Kind" in ev and "nope" not in ev
    with pytest.raises(KeyError):
        ev["nope"]
    only_upper = PantherEvent({"Verb": "create"})
    assert only_upper.get("verb") == "create" and only_upper["VERB"] == "create"


def test_the_event_and_everything_in_it_is_read_only() -> None:
    ev = PantherEvent(RECORD)
    with pytest.raises(TypeError):
        ev["kind"] = "x"  # type: ignore[index]
    user = ev["user"]
    assert isinstance(user, FrozenMapping) and isinstance(user, Mapping)
    with pytest.raises(TypeError):
        user["username"] = "mallory"
    groups = user["groups"]
    assert isinstance(groups, FrozenList) and isinstance(groups, Sequence)
    assert not hasattr(groups, "append")
    assert groups == ["system:authenticated", "devs"] and groups[0] == "system:authenticated"
    assert RECORD["user"]["username"] == "alice"  # type: ignore[index]


def test_to_dict_and_copy_are_mutable_deep_copies() -> None:
    ev = PantherEvent(RECORD)
    mutable = ev.to_dict()
    mutable["user"]["groups"].append("x")
    assert type(mutable["user"]["groups"]) is list
    assert ev.deep_get("user", "groups") == ["system:authenticated", "devs"]
    ips = ev["p_any_ip_addresses"].copy()  # what panther_base_helpers' pantherflow query does
    assert ips == ["203.0.113.7"] and type(ips) is list


def test_deep_get_returns_the_default_for_missing_null_and_non_object_steps() -> None:
    ev = PantherEvent(RECORD)
    assert ev.deep_get("objectRef", "namespace") == "default"
    assert ev.deep_get("objectRef", "name", default="<none>") == "<none>"
    assert ev.deep_get("empty", default="d") == "d"
    assert ev.deep_get("kind", "deeper", default="d") == "d"


def test_deep_walk_collects_distinct_values_through_arrays() -> None:
    ev = PantherEvent(RECORD)
    assert ev.deep_walk("requestObject", "spec", "containers", "name") == ["a", "b", "c"]
    ports = ("requestObject", "spec", "containers", "ports", "containerPort")
    assert ev.deep_walk(*ports) == [80, 443]
    assert ev.deep_walk(*ports, return_val="first") == 80
    assert ev.deep_walk("requestObject", "spec", "containers", "name", return_val="last") == "c"
    # Each nested array is reduced by return_val too: b gives 443, then c gives 80.
    assert ev.deep_walk(*ports, return_val="last") == 80
    assert ev.deep_walk("requestObject", "spec", "containers", "securityContext",
                        "privileged") is True
    assert ev.deep_walk("requestObject", "spec", "missing", default="d") == "d"


def test_udm_answers_from_the_data_model_then_p_udm() -> None:
    model = {"username": lambda e: e.deep_get("user", "username"),
             "containers": lambda e: e.deep_get("requestObject", "spec", "containers")}
    ev = PantherEvent(RECORD, model)
    assert ev.udm("username") == "alice"
    assert ev.udm("containers")[1]["name"] == "b"
    assert ev.udm("containers", "0", default="x") == "x"  # keys descend into objects only
    assert ev.udm("user", "email") == "alice@example.com"  # not in the model: p_udm
    assert ev.udm("unknown", default="d") == "d"
    assert PantherEvent(RECORD).udm("username") is None
