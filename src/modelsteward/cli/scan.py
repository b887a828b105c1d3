"""``steward scan``: the model-file security scanner."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from modelsteward.cli._exit import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE
from modelsteward.cli._progress import progress_line
from modelsteward.core import Severity

if TYPE_CHECKING:
    from rich.console import Console

    from modelsteward.checks.security import ScanReport

FORMATS = ("text", "json", "sarif")


def _severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of processes, 1 or more (got {text!r})")
    return int(text)


def _global(text: str) -> tuple[str, str]:
    module, colon, name = text.partition(":")
    if not colon or not module or not name:
        raise argparse.ArgumentTypeError(f"expected MODULE:NAME such as mypkg.layers:Block (got {text!r})")
    return module, name


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``scan`` to the command parsers."""
    parser = commands.add_parser(
        "scan",
        help="scan model files for code execution, hidden payloads and malformed content",
        description="Scan model files for code execution, hidden payloads and malformed content.",
        epilog="exit status: 1 if any finding is at or above --fail-on; otherwise 2 if any file "
        "could not be fully scanned; otherwise 0; 4 on bad usage",
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="files or directories (recursive)"
    )
    parser.add_argument("-f", "--format", choices=FORMATS, default="text", help="report format (text)")
    parser.add_argument("--json", action="store_true", help="same as --format json")
    parser.add_argument("-o", "--output", type=Path, help="write the report to this file, not stdout")
    parser.add_argument(
        "--fail-on",
        type=_severity,
        default=Severity.MEDIUM,
        metavar="SEVERITY",
        help="lowest severity that fails the scan: info, low, medium (default), high, critical",
    )
    parser.add_argument(
        "--allow-global",
        type=_global,
        action="append",
        default=[],
        metavar="MODULE:NAME",
        help="let pickles call this global, after review (repeatable)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=os.cpu_count() or 1,
        metavar="N",
        help="scan in N processes when there are many files (default: one per core)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Scan ``args.paths``, write the report, return the exit status."""
    from modelsteward.checks.security import ScanOptions, scan  # noqa: PLC0415 - keep --help fast

    paths: list[Path] = args.paths
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    output: Path | None = args.output
    if output is not None and not output.parent.is_dir():
        print(f"error: --output: directory {output.parent} does not exist", file=sys.stderr)
        return EXIT_USAGE
    options = ScanOptions(allowed_globals=frozenset(args.allow_global))
    report = scan(paths, options, progress=progress_line(args.quiet, "scanning "), jobs=args.jobs)
    _render(report, "json" if args.json else args.format, output)
    if report.fails(args.fail_on):
        return EXIT_FINDINGS
    return EXIT_OK if report.complete else EXIT_INCOMPLETE


def _render(report: ScanReport, fmt: str, output: Path | None) -> None:
    # Renderers are imported on demand: JSON output never loads rich.
    if fmt == "text":
        from modelsteward.reports import scan_text  # noqa: PLC0415

        if output is None:
            scan_text.render(report, _console(None))
        else:
            with output.open("w", encoding="utf-8") as handle:
                scan_text.render(report, _console(handle))
        return
    if fmt == "json":
        from modelsteward.reports import scan_json  # noqa: PLC0415

        document = scan_json.render(report)
    else:
        from modelsteward.core.rules import load_catalogue  # noqa: PLC0415
        from modelsteward.reports import sarif  # noqa: PLC0415

        document = sarif.render(report, load_catalogue())
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")


def _console(handle: TextIO | None) -> Console:
    from rich.console import Console  # noqa: PLC0415

    if handle is None:
        return Console()
    return Console(file=handle, width=160, no_color=True)
