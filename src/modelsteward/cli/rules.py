"""``steward rules``: the rule catalogue, as a table, JSON, or the docs/rules.md page."""

from __future__ import annotations

import argparse
import json
import sys

from modelsteward.cli._exit import EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rules`` to the command parsers."""
    parser = commands.add_parser(
        "rules",
        help="list every rule a check can report",
        description="List every rule a check can report, with its default severity.",
    )
    parser.add_argument("-f", "--format", choices=("text", "json", "markdown"), default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the catalogue in ``args.format``."""
    from modelsteward.core.rules import load_catalogue, render_markdown  # noqa: PLC0415 - keep start-up short

    catalogue = load_catalogue()
    if args.format == "markdown":
        sys.stdout.write(render_markdown(catalogue))
    elif args.format == "json":
        rows = [
            {"id": r.id, "severity": r.severity.label, "area": r.area, "title": r.title,
             "description": r.description, "remediation": r.remediation}
            for r in catalogue.values()
        ]  # fmt: skip
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        from rich.console import Console  # noqa: PLC0415
        from rich.table import Table  # noqa: PLC0415

        table = Table(title=f"{len(catalogue)} rules")
        for column in ("rule", "severity", "area", "title"):
            table.add_column(column, overflow="fold")
        for rule in catalogue.values():
            table.add_row(rule.id, rule.severity.label, rule.area, rule.title)
        Console().print(table)
    return EXIT_OK
