"""A readable terminal view of findings: one aligned, coloured row per finding as it is
published (severity, event time, cluster, rule, title), drawn with rich.

Rows are printed as they come, never collected, so a long scan's memory stays flat. Every
attacker-controlled string reaches rich as plain `Text` (never markup: a username such as
`[bold red]` stays literal) after `terminal_safe` has escaped control, bidi and line-separator
characters. rich is imported only when a table is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from kubetrail.findings import Finding
from kubetrail.publish.base import PublishResult
from kubetrail.textsafe import terminal_safe

SEVERITY_STYLES = {"CRITICAL": "bold white on red", "HIGH": "bold red", "MEDIUM": "yellow",
                   "LOW": "cyan", "INFO": "dim"}
COLUMNS = (("SEVERITY", 9), ("EVENT TIME", 20), ("CLUSTER", 18), ("RULE", 42), ("TITLE", None))
# On terminals narrower than WIDE the pack's common "Kubernetes." prefix is left out of rule ids
# and the cluster column narrows; below NARROW the event time goes too, so titles stay readable.
WIDE, NARROW = 130, 100
RULE_PREFIX = "Kubernetes."


class TablePublisher:
    """Prints findings as table rows on a terminal. `kind` other than a plain finding
    (escalation, rule_error) is shown before the title."""

    def __init__(self, stream: TextIO, *, color: bool = True, width: int | None = None) -> None:
        from rich.console import Console

        self.console = Console(file=stream, force_terminal=color, no_color=not color,
                               width=width, highlight=False, soft_wrap=False)
        self._header_done = False
        width_now = self.console.width
        self.compact = width_now < WIDE
        sizes = dict(COLUMNS)
        if self.compact:
            sizes.update({"CLUSTER": 14, "RULE": 42 - len(RULE_PREFIX)})
        if width_now < NARROW:
            del sizes["EVENT TIME"]
        fixed = sum(w for w in sizes.values() if w) + len(sizes) - 1  # widths + padding
        sizes["TITLE"] = max(20, width_now - fixed)
        self.columns = sizes

    def _row(self, cells: Sequence[Any]) -> None:
        from rich.table import Table

        table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 1),
                      expand=False)
        for w in self.columns.values():  # fixed widths, so that rows printed one by one line up
            table.add_column(width=w, min_width=w, max_width=w, no_wrap=True,
                             overflow="ellipsis")
        table.add_row(*cells)
        self.console.print(table)

    def _header(self) -> None:
        from rich.text import Text

        self._row([Text(name, style="bold underline") for name in self.columns])
        self._header_done = True

    def publish(self, findings: Sequence[Finding]) -> Sequence[PublishResult]:
        from rich.text import Text

        if findings and not self._header_done:
            self._header()
        for finding in findings:
            doc = finding.document
            kind = str(doc.get("kind") or "finding")
            title = terminal_safe(str(doc.get("title") or ""))
            if kind != "finding":
                title = f"[{kind}] {title}"
            severity = finding.severity.upper()
            rule_id = finding.rule_id
            if self.compact:
                rule_id = rule_id.removeprefix(RULE_PREFIX)
            cells = {
                "SEVERITY": Text(severity, style=SEVERITY_STYLES.get(severity, "")),
                "EVENT TIME": Text(terminal_safe(str(doc.get("event_time") or ""))[:19]
                                   .replace("T", " ")),
                "CLUSTER": Text(terminal_safe(finding.cluster or "-")),
                "RULE": Text(terminal_safe(rule_id)),
                "TITLE": Text(title),
            }
            self._row([cells[name] for name in self.columns])
        return [PublishResult(f.id) for f in findings]
