"""``steward rules``: the rule catalogue, as a table, JSON, or the docs/rules.md page."""

from __future__ import annotations

import enum
import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from modelsteward.core.rules import load_catalogue, render_markdown


class RulesFormat(enum.StrEnum):
    """How the catalogue is printed."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def command(
    fmt: Annotated[RulesFormat, typer.Option("--format", "-f", help="Output format.")] = RulesFormat.TEXT,
) -> None:
    """List every rule a check can report, with its default severity."""
    catalogue = load_catalogue()
    if fmt is RulesFormat.MARKDOWN:
        sys.stdout.write(render_markdown(catalogue))
    elif fmt is RulesFormat.JSON:
        rows = [
            {"id": r.id, "severity": r.severity.label, "area": r.area, "title": r.title,
             "description": r.description, "remediation": r.remediation}
            for r in catalogue.values()
        ]  # fmt: skip
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        table = Table(title=f"{len(catalogue)} rules")
        for column in ("rule", "severity", "area", "title"):
            table.add_column(column, overflow="fold")
        for rule in catalogue.values():
            table.add_row(rule.id, rule.severity.label, rule.area, rule.title)
        Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``rules`` to ``app``."""
    app.command("rules")(command)
