"""The terminal table: real findings from the bundled rules, rendered by rich into a buffer."""

from __future__ import annotations

import io
import re

from kubetrail.findings import Finding
from kubetrail.publish.table import TablePublisher
from kubetrail.record import replace
from tests.test_ocsf import FINDINGS

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _findings() -> list[Finding]:
    out = []
    for doc, event in FINDINGS:
        out.append(Finding(id=doc["id"], rule_id=doc["rule_id"], title=doc["title"],
                           severity=doc["severity"], cloud=doc["cloud"],
                           cluster=event.cluster or "", document=doc))
    return out


def render(findings: list[Finding], *, color: bool = True) -> str:
    buf = io.StringIO()
    results = TablePublisher(buf, color=color, width=200).publish(findings)
    assert [r.finding_id for r in results] == [f.id for f in findings]
    assert all(r.ok for r in results)
    return buf.getvalue()


def test_one_aligned_row_per_finding_after_one_header() -> None:
    findings = _findings()
    lines = ANSI.sub("", render(findings)).rstrip("\n").split("\n")
    assert lines[0].split() == ["SEVERITY", "EVENT", "TIME", "CLUSTER", "RULE", "TITLE"]
    assert len(lines) == 1 + len(findings)
    rule_col = lines[0].index("RULE")
    for line, finding in zip(lines[1:], findings, strict=True):
        assert line.startswith(finding.severity)
        assert line[rule_col:].startswith(finding.rule_id)
        assert finding.title[:20] in line


def test_severity_is_coloured_only_when_asked() -> None:
    finding = _findings()[0]
    high = replace(finding, severity="HIGH")
    assert "\x1b[1;31mHIGH" in render([high])
    assert "\x1b[" not in render([high], color=False)


def test_hostile_titles_stay_literal_and_on_one_line() -> None:
    finding = _findings()[0]
    hostile = "[bold red]admin[/] \x1b[2J\u202eevil\u2028next\x9bline"
    doc = {**finding.document, "title": hostile}
    out = render([replace(finding, title=hostile, document=doc)], color=False)
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == 2
    assert "[bold red]admin[/]" in lines[1]  # rich markup is not interpreted
    for raw in ("\x1b", "\u202e", "\u2028", "\x9b"):
        assert raw not in out
    assert "\\u202e" in out and "\\u2028" in out and "\\u009b" in out


def test_escalations_and_rule_errors_say_so() -> None:
    finding = _findings()[0]
    doc = {**finding.document, "kind": "escalation"}
    assert "[escalation]" in render([replace(finding, document=doc)], color=False)
