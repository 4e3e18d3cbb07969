"""Run a delivery through the real Pipeline (SQLite dedup in memory, the stdout publisher into a
buffer) and check the invariants every input must keep."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import orjson

from kubetrail.dedup.sqlite import SqliteDedupStore
from kubetrail.pipeline import BatchReport, Pipeline
from kubetrail.publish.stdout import StdoutPublisher
from kubetrail.rules import RuleSet, load_rules
from tests.fuzz.deliveries import Decode

RULES = RuleSet(load_rules())
# What must never reach a terminal raw (issue 9): C0/C1 controls, bidi overrides and isolates,
# line and paragraph separators.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


@dataclass(frozen=True)
class Run:
    report: BatchReport
    stdout: bytes

    @property
    def findings(self) -> list[tuple[str, str, str, str]]:
        """What was found, independent of the run: rule, dedup key, severity, title."""
        docs = [orjson.loads(line) for line in self.stdout.splitlines()]
        return sorted((d["rule_id"], d.get("dedup_key", ""), d.get("severity", ""),
                       d.get("title", "")) for d in docs)


def failed(report: BatchReport) -> int:
    count = getattr(report, "failed", None)
    return count if isinstance(count, int) else len(report.failures)


def run(decode: Decode, *, prefilter: bool = True) -> Run:
    """One pass; anything but a dedup/publish error escaping process() fails the test."""
    out = io.BytesIO()
    store = SqliteDedupStore()
    try:
        pipeline = Pipeline(RULES, store, StdoutPublisher(out))
        report = pipeline.process(decode(RULES.prefilter if prefilter else None))
    finally:
        store.close()
    return Run(report, out.getvalue())


def check(r: Run) -> None:
    """Every record accounted for; stdout is one valid, terminal-safe JSON document per line."""
    rep = r.report
    accounted = rep.decoded + rep.prefiltered + sum(rep.skipped.values()) + failed(rep)
    assert accounted == rep.records, rep.summary()
    text = r.stdout.decode("utf-8")
    assert not UNSAFE.search(text.replace("\n", "")), "unsafe character on stdout"
    lines = text.splitlines()
    assert len(lines) == text.count("\n") == len(r.stdout.split(b"\n")) - 1
    for line in lines:
        assert isinstance(orjson.loads(line), dict)


def run_both(decode: Decode) -> Run:
    """Run with and without the prefilter: the same findings, both runs sound."""
    with_prefilter, without = run(decode), run(decode, prefilter=False)
    check(with_prefilter)
    check(without)
    assert with_prefilter.findings == without.findings, "the prefilter changed what was found"
    return with_prefilter
