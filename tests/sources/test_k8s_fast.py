"""The usual-types path of event_from_k8s (`_usual_event`) makes exactly the event the checked
path makes, or declines: on every Event of the corpus, and on corpus Events whose fields are
replaced by values of every JSON type (hypothesis), including the ones the checked path refuses."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from kubetrail.errors import DecodeError
from kubetrail.sources.k8s import _checked_event, _usual_event
from tests.sources.helpers import ORIGIN, corpus_lines, native

EVENTS = [native(e) for e in corpus_lines("eks/panther-analysis_eks-audit-events.jsonl")]
TOP = ["auditID", "stage", "verb", "userAgent", "requestURI", "objectRef", "user",
       "responseStatus", "sourceIPs", "requestObject", "stageTimestamp",
       "requestReceivedTimestamp", "timestamp"]
NESTED = {"objectRef": ["resource", "subresource", "namespace", "name", "apiGroup",
                        "apiVersion"], "user": ["username", "groups"],
          "responseStatus": ["code"]}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.sampled_from(["", "x", "2026-11-27T10:00:00Z", "2026-11-27 10:00:00.5", "99999-1-1",
                       "create", "pods", "kube-system"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["op", "path", "value", "spec", "code", "username", "groups"]), inner, max_size=3),
    max_leaves=6)


def checked(obj: dict[str, Any]) -> Any:
    try:
        return _checked_event(obj, cloud="aws", cluster="c", raw=obj, origin=ORIGIN)
    except DecodeError as exc:
        return exc


def test_every_corpus_event_takes_the_usual_path_to_the_same_event() -> None:
    usual = [_usual_event(obj, "aws", "c", obj) for obj in EVENTS]
    assert all(e is not None for e in usual)
    assert usual == [checked(obj) for obj in EVENTS]


PATHS = TOP + [f"{k}.{n}" for k, v in NESTED.items() for n in v]
VALUES: list[Any] = [None, "", "x", "2026-11-27T10:00:00Z", "not a time", 0, 403, 2**70, 1.5,
                     True, [], ["a"], ["a", 1], [{"op": "add", "path": "/x", "value": 1}], {},
                     {"code": 1}, "<absent>"]


def changed(obj: dict[str, Any], changes: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = orjson.loads(orjson.dumps(obj))
    for path, value in changes:
        parent, _, key = path.rpartition(".")
        target = obj.get(parent) if parent else obj
        if not isinstance(target, dict):
            continue
        if value == "<absent>":
            target.pop(key, None)
        else:
            target[key] = value
    return obj


def test_each_field_with_each_type() -> None:
    for base in (EVENTS[0], next(e for e in EVENTS if e.get("requestObject"))):
        for path in PATHS:
            for value in VALUES:
                assert_agrees(changed(base, [(path, value)]))


def assert_agrees(obj: dict[str, Any]) -> None:
    fast = _usual_event(obj, "aws", "c", obj)
    slow = checked(obj)
    if fast is not None:
        assert fast == slow, obj
    elif not isinstance(slow, DecodeError):
        # declined: only records the usual path is not for (a JSON patch body...), never a
        # regular one
        assert not _regular(obj), obj


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(range(len(EVENTS))),
       st.lists(st.tuples(st.sampled_from(PATHS), st.one_of(JSON, st.just("<absent>"))),
                min_size=1, max_size=4))
def test_the_usual_path_agrees_or_declines(index: int, changes: list[tuple[str, Any]]) -> None:
    assert_agrees(changed(EVENTS[index], changes))


def _regular(obj: dict[str, Any]) -> bool:
    """Every field the decoder reads has its usual type (dicts, str, lists of str, an int)."""
    def str_or_none(v: Any) -> bool:
        return v is None or type(v) is str

    def strings(v: Any) -> bool:
        return v is None or (type(v) is list and all(type(x) is str for x in v))

    ref, user, status = obj.get("objectRef"), obj.get("user", {}), obj.get("responseStatus")
    return (all(str_or_none(obj.get(k)) for k in TOP[:5])
            and (ref is None or (type(ref) is dict
                                 and all(str_or_none(ref.get(k)) for k in NESTED["objectRef"])))
            and type(user) is dict and str_or_none(user.get("username"))
            and strings(user.get("groups"))
            and (status is None or (type(status) is dict and (
                status.get("code") is None or type(status.get("code")) is int)))
            and strings(obj.get("sourceIPs"))
            and (obj.get("requestObject") is None or type(obj.get("requestObject")) is dict)
            and all(type(obj.get(k)) in (str, type(None)) for k in TOP[10:]))
