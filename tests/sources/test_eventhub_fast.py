"""The Event Hub fast path gives each record the outcome the full decode gives it, whatever the
body holds: it is either taken with the same decisions, or declined (None) before any outcome."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from kubetrail.errors import Origin
from kubetrail.rules import RuleSet, load_rules
from kubetrail.sources import eventhub_fast
from kubetrail.sources.base import Outcome, Prefiltered
from kubetrail.sources.density import check_density
from kubetrail.sources.detect import decode_document, decode_line
from kubetrail.sources.eventhub_fast import prefiltered_body
from tests.synthetic import events

PREFILTER = RuleSet(load_rules()).prefilter
ORIGIN = Origin("hub")
AKS_ID = "/SUBSCRIPTIONS/S/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/K1"


def _record(ev: dict[str, Any], *, category: str = "kube-audit", log: Any = None) -> dict[str, Any]:
    text = orjson.dumps(ev).decode() + "\n" if log is None else log
    return {"category": category, "operationName": "x", "resourceId": AKS_ID,
            "properties": {"log": text, "stream": "stdout", "pod": "apiserver"},
            "time": "2026-11-27T00:00:00Z"}


def _per_record(outcomes: list[Outcome]) -> list[Any]:
    """Outcomes with each Prefiltered run spelled out record by record."""
    out: list[Any] = []
    for o in outcomes:
        if type(o) is Prefiltered:
            index = int(o.origin.position.rsplit("[", 1)[1].rstrip("]"))
            prefix = o.origin.position.rsplit("[", 1)[0]
            out.extend(("prefiltered", f"{prefix}[{index + k}]") for k in range(o.count))
        else:
            out.append(o)
    return out


def _full(body: bytes) -> list[Any]:
    assert PREFILTER is not None
    return _per_record(list(decode_document(orjson.loads(body), ORIGIN, PREFILTER)))


def _fast(body: bytes) -> list[Any]:
    assert PREFILTER is not None
    return _per_record(list(decode_line(body, ORIGIN, PREFILTER)))


def _bodies() -> list[tuple[str, bytes, bool]]:
    """(name, body, whether the fast path must take it)."""
    evs = list(events(400, seed=3, daemonset_every=37))
    plain = [_record(ev) for ev in evs[:50]]
    daemonset = next(ev for ev in evs if ev["objectRef"]["resource"] == "daemonsets")
    hidden = orjson.dumps(daemonset).decode().replace('"daemonsets"', '"\\u0064aemonsets"')
    quoted = dict(evs[60], annotations={"reason": 'allowed by "x" \\ y'})
    cases = [
        ("plain", plain, True),
        ("escaped quotes and backslashes in the log", [*plain[:5], _record(quoted)], True),
        ("a daemonset spelled with an escape", [*plain[:3], _record({}, log=hidden + "\n")], True),
        ("another category", [*plain[:4], _record(daemonset, category="kube-apiserver")], True),
        ("another casing", [*plain[:4], _record(daemonset, category="Kube-Audit")], True),
        ("mixed with non-JSON logs", [*plain[:4], _record({}, category="guard", log="E1 x")], True),
        ("log without its newline", [_record({}, log=orjson.dumps(ev).decode())
                                     for ev in evs[:3]], True),
        ("log pretty-printed", [_record({}, log=orjson.dumps(
            daemonset, option=orjson.OPT_INDENT_2).decode() + "\n"), *plain[:2]], True),
        ("log is an object", [*plain[:2], {**plain[2], "properties": {"log": evs[2]}}], False),
        ("no properties", [*plain[:2], {"category": "kube-audit"}], False),
        ("a Panther log inside", [_record({**evs[0], "p_log_type": "Amazon.EKS.Audit"})], True),
        ("a core Event", [_record({**daemonset, "apiVersion": "v1"})], True),
        ("truncated log", [_record({}, log=orjson.dumps(daemonset).decode()[:-9] + "\n")], True),
        ("BOM before the log", [_record({}, log="\ufeff" + orjson.dumps(daemonset).decode())],
         True),
    ]
    out = [(name, orjson.dumps({"records": recs}), taken) for name, recs, taken in cases]
    dup = b'{"records":[' + orjson.dumps(_record(daemonset)) + b'],"records":' \
        + orjson.dumps(plain[:3]) + b"}"
    out.append(("duplicated records key", dup, True))
    dup_log = orjson.dumps({"records": [_record(evs[0])]}).replace(
        b'"stream"', b'"log":' + orjson.dumps(orjson.dumps(daemonset).decode() + "\n") + b',"x"')
    out.append(("duplicated log key", dup_log, True))
    out.append(("another top-level key", orjson.dumps({"records": plain[:2], "kind": "Event"}),
                False))
    out.append(("not UTF-8", orjson.dumps({"records": plain[:2]}).replace(b"apiserver", b"\xff"),
                False))
    # (the typed read, tried first, builds every string and key: it must refuse these itself)
    out.append(("not UTF-8 in a key", orjson.dumps({"records": plain[:2]}).replace(
        b'"stream"', b'"str\xe9am"'), False))
    out.append(("not UTF-8 in a log", orjson.dumps({"records": plain[:2]}).replace(
        b'"kind', b'"\xed\xa0\x80kind', 1), False))
    rng = random.Random(1)
    mixed = [_record(ev, category=rng.choice(["kube-audit", "kube-audit-admin"])) for ev in evs]
    out.append(("a long body", orjson.dumps({"records": mixed}), True))
    return out


@pytest.mark.parametrize(("name", "body", "taken"), _bodies(), ids=[c[0] for c in _bodies()])
def test_fast_path_gives_every_record_the_full_decode_outcome(name: str, body: bytes,
                                                              taken: bool) -> None:
    assert PREFILTER is not None
    assert (prefiltered_body(body, ORIGIN, PREFILTER) is not None) is taken
    if name.startswith("not UTF-8"):
        return  # the full decode of such a body is a Failure of the body (test_eventhub)
    assert _fast(body) == _full(body)


def test_fast_path_prefilters_in_runs_and_decodes_candidates() -> None:
    assert PREFILTER is not None
    evs = list(events(200, seed=3, daemonset_every=37))
    body = orjson.dumps({"records": [_record(ev) for ev in evs]})
    outcomes = prefiltered_body(body, ORIGIN, PREFILTER)
    assert outcomes is not None
    runs = [o for o in outcomes if type(o) is Prefiltered]
    assert sum(o.count for o in runs) > 100 and len(runs) < len(outcomes)
    decoded = [o for o in outcomes if type(o) is not Prefiltered]
    assert any(getattr(o, "event", None) and o.event.resource == "daemonsets" for o in decoded)


def _typed(body: bytes) -> list[Outcome] | None:
    """The typed read's outcomes; None when it declines or cannot read the body."""
    assert PREFILTER is not None
    try:
        found = eventhub_fast._typed_outcomes(body, ORIGIN, PREFILTER)
    except Exception:
        return None
    return None if found is eventhub_fast._FULL_WAY else found


def _created_daemonset() -> dict[str, Any]:
    return next(ev for ev in events(400, seed=3, daemonset_every=37)
                if ev["objectRef"]["resource"] == "daemonsets" and ev["verb"] == "create")


def test_usual_bodies_are_read_in_one_typed_decode_and_odd_records_in_the_raw_one() -> None:
    evs = list(events(60, seed=5, daemonset_every=7))
    plain = [_record(ev) for ev in evs]
    body = orjson.dumps({"records": plain})
    assert _typed(body) is not None
    # a record value that is neither a string nor an object of strings: the raw path reads it
    for odd in ({"level": 3}, {"tags": ["a"]}, {"time": None}, {"properties": {
            **plain[0]["properties"], "size": 1}}):
        odd_body = orjson.dumps({"records": [*plain[:5], {**plain[5], **odd}, *plain[6:]]})
        assert _typed(odd_body) is None, odd
        assert prefiltered_body(odd_body, ORIGIN, PREFILTER) is not None  # type: ignore[arg-type]
        assert _fast(odd_body) == _full(odd_body)
    # a category that is an object: the full decode reads the body (that record fails)
    odd_body = orjson.dumps({"records": [*plain[:5], {**plain[5], "category": {"x": "y"}}]})
    assert _typed(odd_body) is None
    assert prefiltered_body(odd_body, ORIGIN, PREFILTER) is None  # type: ignore[arg-type]
    assert _fast(odd_body) == _full(odd_body)


def test_a_candidate_record_decodes_to_what_orjson_makes_of_it() -> None:
    daemonset = _created_daemonset()
    record = {**_record(daemonset), "Cloud": "AzureCloud", "ccpNamespace": "5eb1\u00e9",
              "properties": {"pod": "p", "log": orjson.dumps(daemonset).decode() + "\n",
                             "stream": "stdout"}}
    body = orjson.dumps({"records": [record]})
    body = body.replace(b'"Cloud":"AzureCloud"', b'"Cloud":"A","Cloud":"AzureCl\\u006fud"')
    outcomes = _typed(body)
    assert outcomes is not None and len(outcomes) == 1
    event = outcomes[0].event  # type: ignore[union-attr]
    assert event.raw == orjson.loads(body)["records"][0]
    assert list(event.raw) == list(orjson.loads(body)["records"][0])  # same key order too
    assert _fast(body) == _full(body)


def test_bodies_the_full_parse_refuses_as_too_dense_are_refused_alike() -> None:
    """`{}` records are 3 bytes each: beyond the density limit, the full parse refuses the body;
    so does this path, however few records the last `records` key holds."""
    plain = orjson.dumps(_record(next(iter(events(1, seed=1)))))
    dense = b'{"records":[' + b",".join([b"{}"] * 40_000) + b"]}"
    hidden = b'{"records":[' + b",".join([b"{}"] * 40_000) + b'],"records":[' + plain + b"]}"
    for body in (dense, hidden):
        assert prefiltered_body(body, ORIGIN, PREFILTER) is None  # type: ignore[arg-type]
        with_prefilter = list(decode_line(body, ORIGIN, PREFILTER))
        assert with_prefilter == list(decode_line(body, ORIGIN))
        assert len(with_prefilter) == 1 and "refused" in with_prefilter[0].reason  # type: ignore[union-attr]


def test_braces_inside_strings_do_not_refuse_a_body() -> None:
    """Many "{" inside a log: more than the one-count bound of the typed read allows, so the raw
    read (which counts outside strings when it must) takes the body."""
    daemonset = _created_daemonset()
    small = orjson.dumps({"records": [_record(dict(daemonset, annotations={"n": "{" * 30_000}))]})
    assert _typed(small) is not None  # (under _UNCOUNTED: no count at all)
    braces = dict(daemonset, annotations={"note": "{" * 120_000})
    body = orjson.dumps({"records": [_record(braces), _record(daemonset)]})
    assert _typed(body) is None
    assert prefiltered_body(body, ORIGIN, PREFILTER) is not None  # type: ignore[arg-type]
    assert _fast(body) == _full(body)
    assert sum(getattr(o, "event", None) is not None for o in _fast(body)) == 2


@pytest.mark.parametrize("size", [1_000, 20_000, eventhub_fast._UNCOUNTED])
def test_the_densest_body_read_uncounted_is_one_the_full_parse_accepts(size: int) -> None:
    """Up to _UNCOUNTED bytes the typed read counts no braces: the densest body it reads, empty
    records (and an object value in each, or not), is within the full parse's density limit."""
    for record in (b"{}", b'{"":{}}'):
        n = (size - len(b'{"records":[]}') + 1) // (len(record) + 1)
        body = b'{"records":[' + b",".join([record] * n) + b"]}"
        assert size - len(record) - 1 < len(body) <= size
        check_density(body)  # the full parse's bound: no DecodeError
        assert _typed(body) is not None  # (each record then fails alone: no category)
        assert _fast(body) == _per_record(list(decode_line(body, ORIGIN)))


def test_logs_the_strict_decode_cannot_read_are_decided_by_the_full_decode() -> None:
    """A log the light decode of the batch cannot read (a BOM, a cut or Panther text, another
    kind) costs only its own record: the prefilter decides on it as the full decode does, among
    records of other categories, while its neighbours keep their fast outcomes."""
    evs = list(events(40, seed=11, daemonset_every=9))
    daemonset = next(ev for ev in evs if ev["objectRef"]["resource"] == "daemonsets")
    plain = [ev for ev in evs if ev["objectRef"]["resource"] != "daemonsets"]
    text = orjson.dumps(plain[0]).decode()
    recs = [
        _record({}, category="guard", log="E1 not JSON"),
        _record({}, category="kube-apiserver", log="I0 starting"),
        _record({}, log="\ufeff" + text + "\n"),  # no rule matches it: prefiltered
        _record({}, log="\ufeff" + orjson.dumps(daemonset).decode(),
                category="kube-audit-admin"),
        *[_record(ev) for ev in plain[1:6]],
        _record(daemonset, category="Kube-Audit"),
        _record({}, log=text.replace('"Event"', '"Pod"', 1)),
        _record({**plain[6], "p_log_type": "Amazon.EKS.Audit"}),
        _record({**plain[7], "user": {"username": "\u00e9lodie"}}),
        _record({}, log=text[:-20]),
        _record({}, category="kube-apiserver", log="I1 started"),
        *[_record(ev) for ev in plain[8:12]],
        _record(daemonset),
    ]
    body = orjson.dumps({"records": recs})
    assert prefiltered_body(body, ORIGIN, PREFILTER) is not None  # type: ignore[arg-type]
    fast, full = _fast(body), _full(body)
    assert fast == full
    assert fast[2] == ("prefiltered", "records[2]")
    assert getattr(fast[3], "event", None) is not None
    assert sum(o[0] == "prefiltered" for o in fast if type(o) is tuple) >= 8
