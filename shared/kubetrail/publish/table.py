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


class TablePublisher:
    """Prints findings as table rows on a terminal. `kind` other than a plain finding
    (escalation, rule_error) is shown before the title."""

    def __init__(self, stream: TextIO, *, color: bool = True, width: int | None = None) -> None:
        from rich.console import Console

        self.console = Console(file=stream, force_terminal=color, no_color=not color,
                               width=width, highlight=False, soft_wrap=False)
        self._header_done = False

    def _row(self, cells: Sequence[Any]) -> None:
        from rich.table import Table

        table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 1),
                      expand=False)
        fixed = sum(w for _, w in COLUMNS if w) + len(COLUMNS) - 1  # widths + padding
        title = max(20, self.console.width - fixed)
        for _, width in COLUMNS:  # fixed widths, so that rows printed one by one line up
            w = width or title
            table.add_column(width=w, min_width=w, max_width=w, no_wrap=True,
                             overflow="ellipsis")
        table.add_row(*cells)
        self.console.print(table)

    def _header(self) -> None:
        from rich.text import Text

        self._row([Text(name, style="bold underline") for name, _ in COLUMNS])
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
            self._row([
                Text(severity, style=SEVERITY_STYLES.get(severity, "")),
                Text(terminal_safe(str(doc.get("event_time") or ""))[:19].replace("T", " ")),
                Text(terminal_safe(finding.cluster or "-")),
                Text(terminal_safe(finding.rule_id)),
                Text(title),
            ])
        return [PublishResult(f.id) for f in findings]
