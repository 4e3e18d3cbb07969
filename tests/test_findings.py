"""The finding document: exact shape, stable id, and cut — never dropped — large values."""

from __future__ import annotations

from datetime import timedelta

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from kubetrail.dedup.sqlite import SqliteDedupStore
from kubetrail.findings import CONTEXT_FIELDS, MAX_DOCUMENT_BYTES, build_finding
from kubetrail.rules import RuleSet, load_rules
from tests.factories import SEED_RULE, T0, ds_manifest, make_event

RULES = RuleSet(load_rules([SEED_RULE]))
DOC_KEYS = {"id", "kind", "rule_id", "title", "severity", "description", "runbook", "reference",
            "dedup_key", "dedup_period_minutes", "cloud", "log_type", "cluster", "event_time",
            "first_seen", "count", "mitre", "tags", "context", "risk"}


def finding_for(**overrides: object):  # type: ignore[no-untyped-def]
    (match,), _ = RULES.evaluate(make_event(**overrides))
    claim = SqliteDedupStore().claim(match.dedup_key, T0, timedelta(minutes=60))
    return build_finding(match, claim, T0)


def test_document_has_exactly_the_design_fields() -> None:
    f = finding_for(request_object=ds_manifest(hostNetwork=True))
    doc = orjson.loads(f.to_json())
    assert set(doc) == DOC_KEYS and doc["kind"] == f.kind == "finding"
    assert tuple(doc["context"]) == CONTEXT_FIELDS
    assert doc["context"] == {
        "username": "alice@example.com", "sourceIPs": ["203.0.113.7"],
        "userAgent": "kubectl/v1.31.0", "namespace": "default", "verb": "create",
        "resource": "daemonsets", "requestURI": "/apis/apps/v1/namespaces/default/daemonsets",
        "responseStatus": {"code": 201}, "cluster": "prod", "name": "node-agent"}
    assert doc["mitre"] == [{"tactic": "TA0002", "technique": "T1610"},
                            {"tactic": "TA0003", "technique": "T1543"}]
    assert doc["severity"] == "MEDIUM" and doc["risk"]["host_namespaces"] == ["hostNetwork"]
    assert doc["event_time"] == doc["first_seen"] == "2026-11-27T12:00:00Z"
    assert (doc["count"], doc["cloud"], doc["log_type"]) == (1, "aws", "Amazon.EKS.Audit")
    assert (f.rule_id, f.severity, f.cluster, f.id) == (doc["rule_id"], "MEDIUM", "prod", doc["id"])


def test_id_is_stable_per_window() -> None:
    assert finding_for().id == finding_for(source_ips=("198.51.100.1",)).id
    assert finding_for().id != finding_for(namespace="other").id


def test_megabyte_values_are_cut_with_a_marker_under_the_limit() -> None:
    huge = "A" * (3 * 1024 * 1024)
    manifest = ds_manifest(containers=[{"name": f"c{i}", "image": huge[: 200_000 + i]}
                                       for i in range(30)])
    f = finding_for(user_agent=huge, request_uri="/x?" + huge, request_object=manifest,
                    source_ips=tuple(f"10.0.{i // 256}.{i % 256}" for i in range(5000)))
    body = f.to_json()
    assert len(body) <= MAX_DOCUMENT_BYTES
    doc = orjson.loads(body)
    assert doc["context"]["userAgent"].startswith("AAAA")
    assert "[kubetrail: truncated" in doc["context"]["userAgent"]
    assert "[kubetrail: truncated" in doc["context"]["sourceIPs"][-1]
    assert "[kubetrail: truncated" in doc["risk"]["images"][-1]
    assert doc["rule_id"] == "Kubernetes.DaemonSet.Created"


def test_hostile_strings_stay_inside_their_json_values() -> None:
    f = finding_for(username='eve"}\n{"rule_id":"fake', name="\u2028\x00")
    lines = f.to_json().split(b"\n")
    assert len(lines) == 1
    doc = orjson.loads(lines[0])
    assert doc["context"]["username"] == 'eve"}\n{"rule_id":"fake'
    assert doc["rule_id"] == "Kubernetes.DaemonSet.Created"


RULE_ERROR_KEYS = {"id", "kind", "rule_id", "title", "severity", "function", "error_type",
                   "error_message", "origin", "dedup_key", "dedup_period_minutes", "cloud",
                   "log_type", "cluster", "event_time", "first_seen", "count", "context"}


def test_rule_error_document_is_bounded_escaped_and_keyed_per_rule_function_and_type() -> None:
    from kubetrail.errors import Origin
    from kubetrail.findings import build_rule_error_finding, rule_error_key
    from kubetrail.rules.engine import rule_error

    class Hostile(Exception):
        def __str__(self) -> str:
            return "\x1b[2J\u202e\u2028" + "x" * 50_000

    error = rule_error("R.Id", "title", Hostile(), Origin("file\x9b.jsonl", "7"))
    event = make_event(username="mallory")
    claim = SqliteDedupStore().claim(rule_error_key(error), T0, timedelta(minutes=30))
    f = build_rule_error_finding(error, event, claim, T0, 30)
    doc = orjson.loads(f.to_json())
    assert set(doc) == RULE_ERROR_KEYS and doc["kind"] == f.kind == "rule_error"
    assert (doc["rule_id"], doc["function"], doc["error_type"]) == ("R.Id", "title", "Hostile")
    assert doc["severity"] == f.severity == "LOW"  # title() failed: the alert went out anyway
    assert doc["error_message"].startswith("Hostile: \\u001b[2J\\u202e\\u2028xxx")
    assert len(doc["error_message"]) < 1100 and doc["origin"] == "file\\u009b.jsonl:7"
    assert doc["context"]["username"] == "mallory" and doc["dedup_period_minutes"] == 30
    assert doc["dedup_key"] == "rule_error:R.Id:title:Hostile"
    assert "\x1b" not in f.title and "\u202e" not in f.title


def test_an_exception_that_cannot_be_printed_is_still_described() -> None:
    from kubetrail.rules.engine import describe_error

    class Broken(Exception):
        def __str__(self) -> str:
            raise RecursionError("str of str of ...")

    assert describe_error(Broken()) == ("Broken", "Broken: <unprintable exception>")


def test_any_alert_context_a_rule_returns_is_encodable() -> None:
    from kubetrail.findings import cap_document

    deep: object = "bottom"
    for _ in range(5000):  # deeper than the recursion limit and than orjson's 254 levels
        deep = {"a": [deep]}

    class Opaque:
        def __str__(self) -> str:
            raise ValueError("no")

    doc = cap_document({"risk": {"deep": deep, "huge": 10**5000, "big": 2**64, "set": {1},
                                 "opaque": Opaque(), (1, 2): "tuple key"}})
    body = orjson.dumps(doc)
    assert len(body) < MAX_DOCUMENT_BYTES and b"levels of nesting beyond 32" in body
    risk = orjson.loads(body)["risk"]
    assert risk["big"] == str(2**64) and risk["huge"].startswith("<integer of")
    assert risk["opaque"] == "<unprintable Opaque>" and risk["(1, 2)"] == "tuple key"


class _Dict(dict):  # type: ignore[type-arg]
    """A dict the fast shapes of findings._cap do not take: the general path's answer."""


class _List(list):  # type: ignore[type-arg]
    """A list the fast shapes of findings._cap do not take."""


def _disguised(value: object) -> object:
    if type(value) is dict:
        return _Dict({k: _disguised(v) for k, v in value.items()})
    if type(value) is list:
        return _List(_disguised(v) for v in value)
    return value


_LEAVES = (st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers(-2**70, 2**70)
           | st.text(max_size=10) | st.tuples(st.text(max_size=4)))
_VALUES = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=6) | st.dictionaries(
    st.text(max_size=10) | st.integers(0, 3), inner, max_size=6), max_leaves=40)


@settings(max_examples=400, deadline=None)
@given(_VALUES, st.sampled_from([0, 3, 8]), st.sampled_from([1, 2, 4, 100]),
       st.sampled_from([0, 30, 31, 32]))
def test_capping_plain_dicts_and_lists_answers_like_the_general_path(
        value: object, max_chars: int, max_items: int, depth: int) -> None:
    from kubetrail.findings import _cap

    assert _cap(value, max_chars, max_items, depth) == _cap(_disguised(value), max_chars,
                                                              max_items, depth)


def test_capping_deep_plain_nesting_answers_like_the_general_path() -> None:
    from kubetrail.findings import _cap

    deep: object = ["bottom" * 3]
    for i in range(40):
        deep = {"k" * i: deep} if i % 2 else [deep, "x" * i]
    assert _cap(deep, 8, 4) == _cap(_disguised(deep), 8, 4)


def test_the_json_of_every_kind_of_finding_is_its_documents() -> None:
    from kubetrail.errors import Origin
    from kubetrail.findings import as_escalation, build_rule_error_finding, rule_error_key
    from kubetrail.publish.formats import as_ocsf
    from kubetrail.record import replace
    from kubetrail.rules.engine import rule_error

    made = finding_for(request_object=ds_manifest(hostNetwork=True), username="x" * 20_000)
    error = rule_error("R.Id", "rule", ValueError("v"), Origin("f", "1"))
    claim = SqliteDedupStore().claim(rule_error_key(error), T0, timedelta(minutes=5))
    for f in (made, as_escalation(made), as_ocsf(made),
              build_rule_error_finding(error, make_event(), claim, T0, 5)):
        assert f.to_json() == orjson.dumps(f.document)
        assert len(f.to_json()) <= MAX_DOCUMENT_BYTES
    # a copy holding another document encodes that one, not the one it was built with
    other = replace(made, document={**made.document, "title": "changed"})
    assert orjson.loads(other.to_json())["title"] == "changed"
    assert orjson.loads(made.to_json())["title"] != "changed"
    assert replace(made, encoding=None) == made  # (equality never looks at the encoding)
