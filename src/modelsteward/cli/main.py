"""The ``steward`` entry point: one Typer app, one module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from modelsteward import __version__
from modelsteward.cli import rules, scan

app = typer.Typer(
    name="steward",
    help="ModelSteward: adopt open-source AI models safely.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
scan.register(app)
rules.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"steward {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """ModelSteward: adopt open-source AI models safely."""


def main() -> None:
    """Console script entry point."""
    app()
