"""Property-based tests over every decoder and the whole pipeline (issue 9).

Invariants, for any input: nothing escapes Pipeline.process but dedup/publish errors; every
record is accounted for; the findings are identical with and without the prefilter; stdout is
one valid, terminal-safe JSON document per line; a hostile record never costs its batch-mates
their findings; a re-spelling with the same meaning finds the same."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz import deliveries as d
from tests.fuzz.harness import run, run_both
from tests.fuzz.mutations import add_whitespace, escape_chars, hostile
from tests.fuzz.seeds import AKS, BY_TYPE, EKS, GKE, SEEDS, Seed

pytestmark = pytest.mark.fuzz


def ci_budget(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """This property's example count in `make test` (its cost decides it); `make fuzz` keeps
    the fuzz profile's budget for every property."""
    if os.environ.get("KUBETRAIL_FUZZ_PROFILE", "ci") != "ci":
        return lambda f: f
    return settings(max_examples=examples)
rngs = st.integers(min_value=0, max_value=2**32 - 1).map(random.Random)

def _finds(seed: Seed) -> bool:
    return bool(run(d.bytes_decoder([seed.text()]), prefilter=False).findings)


POSITIVES = [s for s in SEEDS if _finds(s)]
# Half the examples start from a record that raises a finding, so that "the same findings"
# compares something.
seeds = st.one_of(st.sampled_from(POSITIVES), st.sampled_from(SEEDS))


def _no_newlines(text: bytes, rng: random.Random) -> bytes:
    """A preserving re-spelling that keeps a JSON-lines record on its line."""
    text = escape_chars(text, rng, rng.choice((0.02, 0.2, 1.0)))
    return add_whitespace(text, rng).replace(b"\n", b" ").replace(b"\r", b" ")


def _aks_inner(record: dict[str, object], mutate: callable) -> bytes:  # type: ignore[valid-type]
    """Mutate the audit Event inside an AKS record's properties.log, then the record."""
    props = record.get("properties")
    if isinstance(props, dict) and isinstance(props.get("log"), str):
        log = mutate(props["log"].encode())
        record = {**record, "properties": {**props, "log": log.decode("utf-8", "replace")}}
    return orjson.dumps(record)


def deliveries_of(seed: Seed, text: bytes, tmp: Path,
                  outer: Callable[[bytes], bytes] = lambda b: b) -> list[d.Decode]:
    """Every delivery that carries this family of record, around `text`; `outer` re-spells
    the delivery's own JSON (so escapes can stack: inside the record and around it)."""
    line = outer(text).replace(b"\n", b" ").replace(b"\r", b" ")
    if seed.log_type == EKS:
        return [d.file_decoder(tmp, [line]),
                d.awslogs_decoder(d.lambda_event(outer(d.cloudwatch_payload([text])))),
                d.file_decoder(tmp / "envelope", [outer(d.cloudwatch_payload([text]))
                                                  .replace(b"\n", b" ")])]
    if seed.log_type == AKS:
        body = outer(d.eventhub_body([text]))
        return [d.file_decoder(tmp, [line]), d.eventhub_decoder([body]),
                d.file_decoder(tmp / "envelope", [body.replace(b"\n", b" ")])]
    push = outer(d.pubsub_push(text, 1))
    return [d.file_decoder(tmp, [line]), d.bytes_decoder([push]), d.cloudevent_decoder([text]),
            d.file_decoder(tmp / "envelope", [push.replace(b"\n", b" ")])]


@ci_budget(200)
@given(seed=seeds, rng=rngs)
def test_a_respelling_finds_the_same(seed: Seed, rng: random.Random, tmp_path: Path) -> None:
    """Escapes and whitespace inside the record (the audit Event inside an AKS properties.log
    or a CloudWatch message included) and around it, stacked."""
    original = seed.text()
    if seed.log_type == AKS and rng.random() < 0.75:
        spelled = _aks_inner(dict(seed.record), lambda t: _no_newlines(t, rng))
    else:
        spelled = _no_newlines(original, rng)
    rate, plain_rate = rng.choice((0.2, 1.0)), rng.choice((0.0, 0.0, 0.01, 0.2, 1.0))
    outer = ((lambda b: escape_chars(b, rng, rate, plain_rate=plain_rate))
             if rng.random() < 0.75 else (lambda b: b))
    plain = deliveries_of(seed, original, tmp_path / "a")
    mutated = deliveries_of(seed, spelled, tmp_path / "b", outer)
    for p, m in zip(plain, mutated, strict=True):
        assert run_both(m).findings == run_both(p).findings


def canaries(log_type: str) -> list[Seed]:
    """Seeds that raise findings: a hostile neighbour must not cost them."""
    return [s for s in BY_TYPE[log_type] if run_both(d.bytes_decoder([s.text()])).findings]


CANARIES = {t: canaries(t) for t in (EKS, AKS, GKE)}


@given(seed=seeds, rng=rngs, n=st.integers(1, 3))
def test_a_hostile_record_never_costs_its_batch_mates(seed: Seed, rng: random.Random, n: int,
                                                     tmp_path: Path) -> None:
    """A record attacked where an attacker can reach it: a whole line of a file, a CloudWatch
    message, a Pub/Sub message's data, the audit Event inside an AKS record's properties.log
    (diagnostic settings write the Event Hub body itself, always as valid JSON)."""
    canary = rng.choice(CANARIES[seed.log_type])

    def attack(text: bytes) -> bytes:
        for _ in range(n):
            text = hostile(text, rng)
        return text

    text = attack(seed.text())
    lines = [canary.text(), text.replace(b"\n", b" "), canary.text()]
    expected = run_both(d.bytes_decoder([canary.text()])).findings
    if seed.log_type == EKS:
        batches = [d.file_decoder(tmp_path, lines),
                   d.awslogs_decoder(d.lambda_event(d.cloudwatch_payload(lines)))]
    elif seed.log_type == AKS:
        record = _aks_inner(dict(seed.record), attack)
        body = d.eventhub_body([canary.text(), record, canary.text()])
        batches = [d.file_decoder(tmp_path, lines), d.eventhub_decoder([body])]
    else:
        batches = [d.file_decoder(tmp_path, lines),
                   d.bytes_decoder([d.pubsub_push(t, i) for i, t in enumerate(lines)]),
                   d.cloudevent_decoder(lines)]
    for batch in batches:
        found = run_both(batch).findings
        assert all(f in found for f in expected), (
            f"a batch-mate's finding was lost: {expected} not all in {found}")


@given(seed=seeds, rng=rngs)
def test_a_hostile_envelope_is_accounted_for(seed: Seed, rng: random.Random,
                                             tmp_path: Path) -> None:
    text = seed.text()
    if seed.log_type == EKS:
        envelope = d.cloudwatch_payload([text, text])
        decoders = [lambda e: d.awslogs_decoder(d.lambda_event(e)), lambda e: d.bytes_decoder([e])]
    elif seed.log_type == AKS:
        envelope = d.eventhub_body([text, text])
        decoders = [lambda e: d.eventhub_decoder([e])]
    else:
        envelope = d.pubsub_push(text, 1)
        decoders = [lambda e: d.bytes_decoder([e])]
    mutated = hostile(envelope, rng)
    for make in decoders:
        run_both(make(mutated))
    run_both(d.file_decoder(tmp_path, [mutated.replace(b"\n", b" ")], gzipped=rng.random() < .5))


@given(data=st.binary(max_size=2048))
def test_random_bytes_in_every_delivery(data: bytes, tmp_path: Path) -> None:
    run_both(d.bytes_decoder([data]))
    run_both(d.eventhub_decoder([data]))
    run_both(d.awslogs_decoder(data))
    run_both(d.awslogs_decoder(d.lambda_event(data)))
    run_both(d.cloudevent_decoder([data]))
    run_both(d.file_decoder(tmp_path, [data]))
    run_both(d.file_decoder(tmp_path, [data], gzipped=True))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30)


@given(seed=seeds, rng=rngs, value=json_values)
def test_any_json_value_anywhere(seed: Seed, rng: random.Random, value: object,
                                 tmp_path: Path) -> None:
    from tests.fuzz.mutations import replace_value

    text = replace_value(seed.text(), rng, json.dumps(value).encode())
    for decode in deliveries_of(seed, text, tmp_path):
        run_both(decode)


MIB = 1 << 20


@ci_budget(6)
@given(seed=seeds, rng=rngs, size=st.sampled_from((300_000, 1_000_000)),
       shape=st.sampled_from(("array", "deep", "object", "line", "body")))
def test_memory_stays_bounded(seed: Seed, rng: random.Random, size: int, shape: str,
                              tmp_path: Path) -> None:
    """A record that is mostly tiny values (or nesting) costs a bounded multiple of its size,
    measured by tracemalloc over the whole pipeline pass."""
    import tracemalloc

    from tests.fuzz.mutations import deep, replace_value

    if shape == "array":
        value = b"[" + b"{}," * (size // 3) + b"{}]"
    elif shape == "deep":
        value = deep(size // 2)
    else:
        value = b"{" + b",".join(b'"k%d":[]' % i for i in range(size // 10)) + b"}"
    array = b"[" + b"{}," * (size // 3) + b"{}]"
    if shape in ("line", "body"):  # the line or the Event Hub body is itself the array
        text = array
        decode = (d.file_decoder(tmp_path, [text]) if shape == "line"
                  else d.eventhub_decoder([text]))
    else:
        text = replace_value(seed.text(), rng, value)
        decode = d.file_decoder(tmp_path, [text.replace(b"\n", b" ")])
    tracemalloc.start()
    try:
        run(decode)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * MIB + 40 * len(text), f"peak {peak / MIB:.0f} MiB for {len(text)} bytes"
