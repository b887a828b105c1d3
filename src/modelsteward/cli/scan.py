"""``steward scan``: the model-file security scanner."""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from modelsteward.checks.security import ScanOptions, ScanReport, scan
from modelsteward.core import Severity
from modelsteward.core.rules import load_catalogue
from modelsteward.reports import sarif, scan_json, scan_text

# Exit codes, documented in the README.
EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_INCOMPLETE = 2
EXIT_USAGE = 4


class OutputFormat(enum.StrEnum):
    """How the report is written."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


def _render(report: ScanReport, fmt: OutputFormat, output: Path | None) -> None:
    if fmt is OutputFormat.TEXT:
        if output is None:
            scan_text.render(report, Console())
        else:
            with output.open("w", encoding="utf-8") as handle:
                scan_text.render(report, Console(file=handle, width=160, no_color=True))
        return
    document = (
        scan_json.render(report) if fmt is OutputFormat.JSON else sarif.render(report, load_catalogue())
    )
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")


def _progress(console: Console, quiet: bool) -> Callable[[str], None] | None:
    """Name each file on the terminal as it is scanned; nothing when piped or quiet."""
    if quiet or not console.is_terminal:
        return None

    def show(path: str) -> None:
        console.print(f"[dim]scanning {path}[/dim]", end="\r", soft_wrap=True)

    return show


def command(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories (scanned recursively).")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Report format.")] = OutputFormat.TEXT,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    fail_on: Annotated[
        str, typer.Option("--fail-on", help="Lowest severity that fails (exit 1).")
    ] = "medium",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Scan model files for code execution, hidden payloads and malformed content.

    Exit status: 1 if any finding is at or above --fail-on; otherwise 2 if any file could
    not be fully scanned; otherwise 0. Bad usage exits 4.
    """
    errors = Console(stderr=True)
    try:
        threshold = Severity.parse(fail_on)
    except ValueError as error:
        errors.print(f"error: --fail-on: {error}")
        raise typer.Exit(EXIT_USAGE) from None
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        errors.print(f"error: no such file or directory: {', '.join(missing)}")
        raise typer.Exit(EXIT_USAGE)
    if output is not None and output.parent and not output.parent.is_dir():
        errors.print(f"error: --output: directory {output.parent} does not exist")
        raise typer.Exit(EXIT_USAGE)
    report = scan(paths, ScanOptions(), progress=_progress(errors, quiet))
    _render(report, OutputFormat.JSON if as_json else fmt, output)
    raise typer.Exit(report.exit_code(threshold))


def register(app: typer.Typer) -> None:
    """Add ``scan`` to ``app``."""
    app.command("scan")(command)
