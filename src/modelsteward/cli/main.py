"""The ``steward`` entry point: one parser, one module per command group.

argparse, not a heavier framework: a scan of one file should cost little more than Python's own
start-up, and each command imports what it needs only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from modelsteward import __version__
from modelsteward.cli import (
    admit,
    audit,
    dependencies,
    evaluate,
    monitor,
    policy,
    registry,
    rules,
    scan,
    serve,
    server,
    tokens,
    users,
    verify,
    watch,
)
from modelsteward.cli._exit import EXIT_USAGE

ON_SERVER = ("admit", "evaluate", "compare", "verify", "registry", "audit", "users", "tokens")
"""The commands that can work on a team server (``--server``) instead of the local registry."""

# argparse exits with this status on a usage error (and only then).
_ARGPARSE_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The ``steward`` parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="steward", description="ModelSteward: adopt open-source AI models safely."
    )
    parser.add_argument("--version", action="version", version=f"steward {__version__}")
    parser.add_argument(
        "--server",
        metavar="URL",
        help="run admit, evaluate, compare, verify, registry, audit, users, tokens on the team server at URL "
        "(default: STEWARD_SERVER; unset: the local registry), as the user of the API token in STEWARD_TOKEN",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    scan.register(commands)
    admit.register(commands)
    verify.register(commands)
    evaluate.register(commands)
    policy.register(commands)
    registry.register(commands)
    dependencies.register(commands)
    watch.register(commands)
    audit.register(commands)
    rules.register(commands)
    serve.register(commands)
    server.register(commands)
    monitor.register(commands)
    users.register(commands)
    tokens.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        # Usage errors get ModelSteward's own status: 2 already means "not fully scanned".
        if exit_.code == _ARGPARSE_USAGE:
            return EXIT_USAGE
        raise
    if args.server and args.command not in ON_SERVER:
        print(
            f"error: steward {args.command} works on this machine; --server applies to "
            + ", ".join(ON_SERVER),
            file=sys.stderr,
        )
        return EXIT_USAGE
    status: int = args.run(args)
    return status
