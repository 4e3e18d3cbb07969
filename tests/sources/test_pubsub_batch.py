"""Pub/Sub push lines judged a batch at a time decide exactly as each line judged alone would:
a bad line costs only itself, no line can shift a decision onto another, and a scan with the
prefilter reports the same failures and matches as one without."""

from __future__ import annotations

import base64
import binascii
import itertools
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest

from kubetrail.errors import Origin
from kubetrail.rules import RuleSet, load_rules
from kubetrail.rules.network import PUBLIC_SOURCE_IPS
from kubetrail.rules.prefilter import Prefilter
from kubetrail.rules.requirements import NON_SYSTEM_PRINCIPAL, SYSTEM_PRINCIPAL, RequestKeys
from kubetrail.sources import read_paths
from kubetrail.sources.base import Decoded, Failure, Outcome, Prefiltered, Skip
from kubetrail.sources.detect import decode_line
from kubetrail.sources.pubsub_batch import CANDIDATE, DECLINED, PREFILTERED, push_verdicts
from kubetrail.sources.pubsub_fast import CANDIDATE as READ_CANDIDATE
from kubetrail.sources.pubsub_fast import verdict
from tests.sources.helpers import pubsub_push
from tests.sources.test_pubsub_fast import entry, line
from tests.synthetic import events

RULES = RuleSet(load_rules())
PREFILTER = RULES.prefilter
assert PREFILTER is not None


def one_by_one(lines: list[bytes], prefilter: Prefilter = PREFILTER) -> list[int]:
    """What the per-line path (pubsub_fast.verdict) answers for each line alone."""
    return [_alone(verdict(text, prefilter)) for text in lines]


def _alone(found: object) -> int:
    return DECLINED if found is None else CANDIDATE if found is READ_CANDIDATE else PREFILTERED


def assert_agrees(found: list[int], lines: list[bytes], prefilter: Prefilter = PREFILTER
                  ) -> None:
    """Each batch verdict is the line's own, or DECLINED (the line then goes to the per-line
    path, which gives its own)."""
    alone = one_by_one(lines, prefilter)
    assert len(found) == len(lines)
    assert all(f in (a, DECLINED) for f, a in zip(found, alone, strict=True)), \
        [(i, f, a) for i, (f, a) in enumerate(zip(found, alone, strict=True)) if f != a]


def stream(n: int, seed: int) -> list[bytes]:
    """Push lines of realistic entries: most prefiltered, some candidates."""
    rng = random.Random(seed)
    out = []
    for i, ev in enumerate(events(n, seed=seed, daemonset_every=37)):
        ref = ev["objectRef"]
        value = entry(ev["verb"], ref["resource"], namespace=ref.get("namespace"),
                      group=ref.get("apiGroup") or "core", sub=ref.get("subresource"),
                      user=ev["user"]["username"],
                      ip=rng.choice(["10.0.0.1", "34.120.8.17", "192.168.1.1", "::1"]),
                      code=rng.choice([None, None, None, 0, 7, 16, 5]))
        if i % 5 == 0:  # the other spelling of the address, or none
            meta = value["protoPayload"]["requestMetadata"]
            value["protoPayload"]["requestMetadata"] = {"callerIP": meta["callerIp"]} \
                if i % 10 else {}
        out.append(line(value))
    return out


def with_data(data: Any, **message: Any) -> bytes:
    body = pubsub_push(entry())
    body["message"] = {**body["message"], "data": data, **message}
    return orjson.dumps(body) + b"\n"


def b64(value: Any) -> str:
    return base64.b64encode(orjson.dumps(value)).decode()


def test_a_generated_stream_gets_the_verdicts_of_its_lines_alone() -> None:
    lines = stream(3000, seed=11)
    found = push_verdicts(lines, PREFILTER)
    assert found == one_by_one(lines)
    assert found.count(PREFILTERED) > 2000 and found.count(CANDIDATE) > 100
    assert DECLINED not in found  # the plain stream is read whole, in batches


@pytest.mark.parametrize("prefilter", [
    Prefilter(({"verb": frozenset({"create"}), "resource": frozenset({"daemonsets"})},)),
    Prefilter(({"username": frozenset({"system:anonymous"})},
               {"response_code": frozenset({403}), "resource": frozenset({"secrets"})})),
    Prefilter(({"resource": frozenset({"pods"}), "subresource": frozenset({"exec"})},
               {"resource": frozenset({"configmaps"}), "namespace": frozenset({"kube-system"})})),
    Prefilter(({"username": SYSTEM_PRINCIPAL, "source_ips": PUBLIC_SOURCE_IPS},
               {"resource": frozenset({"pods"}), "verb": frozenset({"create"}),
                "request_object": RequestKeys(["hostPID"])},
               {"username": NON_SYSTEM_PRINCIPAL, "response_code": frozenset({403})})),
], ids=["daemonsets", "user-or-403", "exec-or-namespace", "principals-and-body-keys"])
def test_other_rule_sets_get_the_verdicts_of_the_lines_alone(prefilter: Prefilter) -> None:
    lines = stream(1500, seed=3)
    found = push_verdicts(lines, prefilter)
    assert found == one_by_one(lines, prefilter)
    assert PREFILTERED in found and CANDIDATE in found


def test_a_rule_requiring_only_namespace_declines_every_line() -> None:
    only = Prefilter(({"namespace": frozenset({"kube-system"})},))
    assert push_verdicts(stream(10, seed=1), only) == [DECLINED] * 10


PLAIN = with_data(b64(entry()))
BAD_LINES = {
    "cut": PLAIN[:-30] + b"\n",
    "not JSON": b'{"message": nope}\n',
    "non-ASCII": PLAIN.replace(b"kubetrail", b"kub\xc3\xa9trail"),
    "invalid UTF-8": PLAIN.replace(b"kubetrail", b"kub\xfftrail"),
    "invalid UTF-8 where the light decode skips": PLAIN.replace(b'01.5Z"', b'01.5\xffZ"'),
    "invalid UTF-8 in the entry where it skips": with_data(base64.b64encode(
        orjson.dumps(entry()).replace(b'"i1"', b'"i\xff1"')).decode()),
    "another key": orjson.dumps({**pubsub_push(entry()), "kind": "Event"}) + b"\n",
    "data null": with_data(None),
    "data a number": with_data(123456),
    "data an object": with_data({"data": "QUJD"}),
    "data empty": with_data(""),
    "data escaped": with_data(b64(entry())).replace(b"A", b"\\u0041", 1),
    "data solidus escaped": with_data(b64(entry("get", "a/b"))).replace(b"/", b"\\/"),
    "data not base64": with_data("!!!!" + b64(entry())),
    "data padding cut": with_data(b64(entry())[:-1]),
    "data padding added": with_data(b64(entry()) + "="),
    "data bad trailing bits": with_data("QR=="),
    "data gzip": with_data(base64.b64encode(b"\x1f\x8b\x08\x00").decode()),
    "data a list": with_data(base64.b64encode(orjson.dumps([entry()])).decode()),
    "data non-ASCII JSON": with_data(base64.b64encode(
        orjson.dumps(entry(user="j\u00f6rg@example.com"))).decode()),
    "entry cut": with_data(base64.b64encode(orjson.dumps(entry())[:-3]).decode()),
    "status null": with_data(b64({**entry(), "protoPayload": {
        **entry()["protoPayload"], "status": None}})),
    "code not gRPC": with_data(b64(entry(code=99))),
    "method refused": with_data(b64(entry(methodName="not a method"))),
    "another service": with_data(b64(entry(serviceName="container.googleapis.com"))),
    "deep": with_data(base64.b64encode(
        orjson.dumps(entry())[:-1] + b',"x":' + b"[" * 1500 + b"]" * 1500 + b"}").decode()),
    "duplicated data": with_data(b64(entry())).replace(
        b'"data":', b'"data":"' + b64(entry("create", "daemonsets", group="apps")).encode()
        + b'","data":', 1),
    "duplicated entry key": with_data(base64.b64encode(
        orjson.dumps(entry())[:-1] + b',"protoPayload":null}').decode()),
}


@pytest.mark.parametrize("name", list(BAD_LINES))
def test_an_odd_line_in_a_batch_costs_only_itself(name: str) -> None:
    lines = stream(200, seed=7)
    lines[93] = BAD_LINES[name]
    found = push_verdicts(lines, PREFILTER)
    assert_agrees(found, lines)
    good = stream(200, seed=7)
    assert found[:93] + found[94:] == (one_by_one(good[:93]) + one_by_one(good[94:]))


# Lines crafted to move an element boundary: a line ending an element early and opening the
# next, two lines merging into one element, a line that is a value followed by more keys.
SHIFTS = [
    line(entry())[:-2] + b'},{"' + b"k" * 25 + b'":' + line(entry())[:-1] + b"\n",
    line(entry())[:-2] + b',"x":1}\n',
    line(entry())[:-1] + b', "' + b"k" * 25 + b'": 1\n',
    b'"' + line(entry())[:-1].replace(b'"', b'\\"') + b'\n',
    line(entry())[:-3] + b'"\n',  # opens a string the next line would close
    b'{"message":{"data":"' + b64(entry()).encode() + b'"},"subscription":"\n',
]


@pytest.mark.parametrize("text", SHIFTS, ids=range(len(SHIFTS)))
def test_a_line_cannot_shift_a_decision_onto_another(text: bytes) -> None:
    daemonset = line(entry("create", "daemonsets", group="apps"))
    lines = [line(entry()), text, daemonset, line(entry("get", "configmaps")), daemonset]
    found = push_verdicts(lines, PREFILTER)
    assert_agrees(found, lines)
    assert found[0] == PREFILTERED and found[1] == DECLINED
    assert found[2] == found[4] == CANDIDATE and found[3] == PREFILTERED


def test_two_lines_that_would_merge_into_one_value_are_each_refused() -> None:
    """A line opening an array its successor closes: each line is read by itself."""
    opener = b'{"message":{"data":"' + b64(entry()).encode() + b'","x":[{"y":1\n'
    closer = b'1}]}}\n'
    daemonset = line(entry("create", "daemonsets", group="apps"))
    lines = [line(entry()), opener, closer, daemonset, line(entry("get", "configmaps")),
             daemonset]
    found = push_verdicts(lines, PREFILTER)
    assert_agrees(found, lines)
    assert found[1] == found[2] == DECLINED
    assert found[3:] == [CANDIDATE, PREFILTERED, CANDIDATE]


def test_a_data_field_cannot_shift_an_entry_onto_another() -> None:
    boring = orjson.dumps(entry())
    crafted = [boring[:-1] + b'},{"k":' + boring,  # two entries in one data
               boring + b"]",
               boring[:-1] + b',"protoPayload":{"serviceName":"k8s.io"}',  # cut object
               b'"' + boring.replace(b'"', b'\\"') + b'"']
    daemonset = line(entry("create", "daemonsets", group="apps"))
    for data in crafted:
        lines = [daemonset, with_data(base64.b64encode(data).decode()), line(entry()),
                 daemonset]
        found = push_verdicts(lines, PREFILTER)
        assert_agrees(found, lines)
        assert found[1] == DECLINED
        assert found[0] == found[3] == CANDIDATE and found[2] == PREFILTERED


def test_a_scan_with_odd_lines_reports_what_the_full_decode_reports(tmp_path: Path) -> None:
    lines = stream(2600, seed=21)
    for i, text in enumerate(BAD_LINES.values()):
        lines[37 * i + 5] = text
    for i, text in enumerate(SHIFTS):
        lines[41 * i + 3] = text
    path = tmp_path / "push.jsonl"
    path.write_bytes(b"".join(lines))
    fast = tally(read_paths([path], PREFILTER))
    # each line alone, through the per-line fast path (as before batches), and without prefilter
    alone = tally(o for i, text in enumerate(lines, 1)
                  for o in decode_line(text, Origin(str(path), str(i)), PREFILTER))
    unfiltered = tally(read_paths([path], None))
    assert fast["failures"] == alone["failures"] and len(fast["failures"]) > 10
    assert fast["skips"] == alone["skips"] and fast["skips"]
    assert fast["matches"] == alone["matches"] == unfiltered["matches"]
    assert len(fast["matches"]) > 50
    assert fast["records"] == unfiltered["records"] == len(lines)


def tally(outcomes: Iterable[Outcome]) -> dict[str, Any]:
    """Failures and skips (where, why), matches (where, which rules), and records counted."""
    failures, skips, matches, records = [], [], [], 0
    for outcome in outcomes:
        records += outcome.count if type(outcome) is Prefiltered else 1
        if type(outcome) is Failure:
            failures.append((str(outcome.origin), outcome.reason))
        elif type(outcome) is Skip:
            skips.append((str(outcome.origin), outcome.reason))
        elif type(outcome) is Decoded:
            found = sorted(m.rule.rule_id for m in RULES.evaluate(outcome.event)[0])
            if found:
                matches.append((str(outcome.origin), found))
    return {"failures": failures, "skips": skips, "matches": matches, "records": records}


def base64_variants() -> Iterator[bytes]:
    """Every text of up to 5 characters over base64 letters, padding and strays, then longer
    real encodings with one character changed, added or removed."""
    for n in range(6):
        yield from map(bytes, itertools.product(b"AQR/+=- \n", repeat=n))
    rng = random.Random(4)
    for size in range(1, 200, 7):
        good = base64.b64encode(rng.randbytes(size))
        yield good
        for _ in range(20):
            i = rng.randrange(len(good) + 1)
            c = rng.choice(b"A/+=-_ \n\\\x00\xff")
            yield good[:i] + bytes([c]) + good[i:]
            yield good[:i] + bytes([c]) + good[i + 1:]
            yield good[:i] + good[i + 1:]


def strict(text: bytes) -> bytes | None:
    """What the full decoder's common.b64decode (binascii, strict) answers; None: a Failure."""
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        return None


def test_msgspec_reads_base64_as_binascii_strict_does_or_refuses() -> None:
    """Both fast paths let msgspec decode message.data (a `bytes` field): what it accepts must
    be what the full decoder (orjson's string, then binascii's strict decode) accepts, with the
    same bytes; escapes in the string are read first, as orjson reads them."""
    class Message(msgspec.Struct):
        data: bytes

    decode = msgspec.json.Decoder(Message).decode
    texts = [orjson.dumps({"data": t.decode("latin-1")}) for t in base64_variants()]
    texts += [b'{"data":"QUJ\\u0044"}', b'{"data":"QU\\/D"}', b'{"data":"\\u0051UJD"}',
              b'{"data":"QUJD\\n"}', b'{"data":"QUJD\\u0000"}', b'{"data":"QUJD="}']
    accepted = 0
    for text in texts:
        try:
            found: bytes | None = decode(text).data
        except msgspec.ValidationError:
            found = None
        value = orjson.loads(text)["data"]
        expected = strict(value.encode()) if value.isascii() else None
        assert found is None or found == expected, text
        accepted += found is not None
    assert accepted > 500
    assert decode(b'{"data":"QUJ\\u0044"}').data == b"ABC"


def test_request_body_keys_are_looked_for_in_the_body_text_as_the_line_alone_does() -> None:
    keys = Prefilter(({"resource": frozenset({"pods"}), "verb": frozenset({"create"}),
                       "request_object": RequestKeys(["hostPID"])},
                      {"resource": frozenset({"pods"}), "verb": frozenset({"create"}),
                       "request_object": RequestKeys(["privileged"])}))
    spec = {"spec": {"containers": [{"name": "c"}]}}
    bodies = {
        "no body": None,
        "without the keys": spec,
        "with one": {"spec": {"hostPID": True}},
        "a patch writing one": [{"op": "add", "path": "/spec/hostPID", "value": True}],
        "deep": {"spec": {"containers": [{"securityContext": {"privileged": True}}]}},
        "null": "null",
    }
    lines = []
    for body in bodies.values():
        proto = {} if body is None else {"request": None if body == "null" else body}
        lines.append(line(entry("create", "pods", **proto)))
    escaped = line(entry("create", "pods", request={"spec": {"hostPID": True}}))
    lines.append(with_data(base64.b64encode(orjson.dumps(entry(
        "create", "pods", request={"spec": {"x": 1}}))[:-1].replace(
            b'"x"', b'"\\u0068ostPID"') + b"}").decode()))
    lines += [escaped, line(entry("get", "pods", request={"spec": {"hostPID": True}}))]
    found = push_verdicts(lines, keys)
    assert found == one_by_one(lines, keys)
    assert found == [PREFILTERED, PREFILTERED, CANDIDATE, CANDIDATE, CANDIDATE, PREFILTERED,
                     CANDIDATE, CANDIDATE, PREFILTERED]

