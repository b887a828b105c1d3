"""``steward audit``: the registry's append-only, hash-chained audit log."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from modelsteward.cli._exit import EXIT_OK
from modelsteward.cli.registry import (
    EXIT_NOT_FOUND,
    cells,
    new_table,
    print_json,
    print_table,
    when,
    with_registry,
)

if TYPE_CHECKING:
    from modelsteward.client import RegistryAPI


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit`` and its subcommands to the command parsers."""
    parser = commands.add_parser(
        "audit",
        help="list the audit log, or check that no entry was edited, deleted or reordered",
        description="The registry's audit log: every change, each entry chained to the one before by hash.",
    )
    sub = parser.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    command = sub.add_parser("list", help="every entry, oldest first")
    command.add_argument("--json", action="store_true", help="print JSON")
    command.set_defaults(run=with_registry(_list))
    command = sub.add_parser(
        "verify",
        help="check the hash chain",
        epilog="exit status: 0 the chain is whole; 1 an entry was edited, deleted or reordered, or the "
        "anchor is gone; 4 bad usage",
    )
    command.add_argument("--json", action="store_true", help="print JSON")
    command.add_argument(
        "--anchor",
        metavar="HASH",
        help="a head hash recorded earlier (by a previous verify): it must still be in the log, "
        "which detects a cut or rewritten tail",
    )
    command.set_defaults(run=with_registry(_verify))


def _list(registry: RegistryAPI, args: argparse.Namespace) -> int:
    entries = registry.audit()
    if args.json:
        return print_json(entries)
    table = new_table(
        f"{len(entries)} audit entries", "seq", "at (UTC)", "actor", "action", "subject", "hash"
    )
    for entry in entries:
        row = (entry.seq, when(entry.at), entry.actor, entry.action, entry.subject, entry.hash[:12])
        table.add_row(*cells(*row))
    return print_table(table)


def _verify(registry: RegistryAPI, args: argparse.Namespace) -> int:
    report = registry.verify_audit(anchor=args.anchor)
    if args.json:
        print_json(
            {"ok": report.ok, "entries": report.entries, "head": report.head, "problems": report.problems}
        )
    elif report.ok:
        head = "" if report.head is None else f"; head {report.head.seq} {report.head.hash}"
        print(f"audit chain intact: {report.entries} entries{head}")
    else:
        table = new_table(f"audit chain BROKEN: {len(report.problems)} problems", "seq", "problem", "detail")
        for problem in report.problems:
            table.add_row(*cells(problem.seq, problem.kind, problem.detail))
        print_table(table)
    return EXIT_OK if report.ok else EXIT_NOT_FOUND
