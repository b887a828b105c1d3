"""The human-readable scan report: a table of findings, then what was not fully scanned."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelsteward.checks.security import ScanReport
from modelsteward.core import Finding, Severity

_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def render(report: ScanReport, console: Console) -> None:
    """Print the findings table, the incomplete files and a one-line summary to ``console``.

    Names and messages come from the scanned files, so they are printed as plain text, never
    read as rich markup.
    """
    findings = sorted(report.findings, key=lambda f: (-f.severity, f.path, f.location))
    if findings:
        table = Table(title="Findings", show_lines=False, expand=False)
        for column in ("severity", "rule", "file", "location", "message"):
            table.add_column(column, overflow="fold")
        for finding in findings:
            table.add_row(
                Text(finding.severity.label, style=_STYLE[finding.severity]),
                finding.rule,
                Text(finding.path),
                Text(finding.location),
                Text(_message(finding)),
            )
        console.print(table)
    incomplete = [file for file in report.files if file.incomplete]
    if incomplete:
        table = Table(title="Not fully scanned (never reported clean)")
        table.add_column("file", overflow="fold")
        table.add_column("format")
        table.add_column("why", overflow="fold")
        for file in incomplete:
            table.add_row(Text(file.path), file.format, Text("\n".join(file.incomplete)))
        console.print(table)
    counts = report.summary()
    by_severity = ", ".join(f"{counts[s.label]} {s.label}" for s in reversed(Severity) if counts[s.label])
    console.print(
        f"{counts['files']} files: {counts['scanned']} scanned, {counts['incomplete']} incomplete; "
        f"findings: {by_severity or 'none'}"
    )


def _message(finding: Finding) -> str:
    # Evidence that the message already quotes would only repeat it.
    if finding.evidence and finding.evidence not in finding.message:
        return f"{finding.message}\n[{finding.evidence}]"
    return finding.message
