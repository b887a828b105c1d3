"""``steward sbom``, ``steward advisories`` and ``steward audit-deps``: dependencies and their advisories."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelsteward.cli._actor import actor
from modelsteward.cli._exit import EXIT_ERROR, EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE
from modelsteward.cli._progress import clear, progress_line
from modelsteward.core import Severity

if TYPE_CHECKING:
    from modelsteward.registry import AffectedVersion, Registry


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sbom``, ``advisories`` and ``audit-deps`` to the command parsers."""
    parser = commands.add_parser(
        "sbom",
        help="a registered version's components as a CycloneDX SBOM",
        description="Print (or write with -o) the CycloneDX 1.6 SBOM of REF (NAME, NAME@N or NAME@ALIAS): "
        "the requirements the model declares and the environment it runs in, with purls and the known "
        "vulnerabilities on record. Exit status: 0 written, 2 unknown REF or the file cannot be written.",
    )
    parser.add_argument("ref", metavar="REF")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the SBOM to FILE")
    parser.set_defaults(run=_sbom)

    parser = commands.add_parser(
        "advisories",
        help="the offline advisory database (OSV)",
        description="The offline database of OSV advisories that dependencies are audited against.",
    )
    sub = parser.add_subparsers(dest="advisories_command", metavar="COMMAND", required=True)
    command = sub.add_parser(
        "sync",
        help="store the advisories of an OSV export, then audit every version against what changed",
        description="Read an OSV export (a URL or path of the zip OSV publishes per ecosystem, or a folder "
        "of records), store the PyPI advisories that are new or newer, and audit every registered version "
        "against them. Exit status: 0 done, 2 some records broke the OSV schema (the rest were stored), "
        "4 the export could not be read (nothing was stored).",
    )
    command.add_argument("--from", dest="location", required=True, metavar="URL|DIR|ZIP")
    command.add_argument("--actor", help="who is syncing, for the audit log (default: the login name)")
    command.add_argument("--json", action="store_true", help="print JSON")
    command.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    command.set_defaults(run=_sync)

    parser = commands.add_parser(
        "audit-deps",
        help="known vulnerabilities of a version's dependencies",
        description="Audit every registered version against the advisory database, then list the "
        "vulnerable components of REF (or of every version with --all): the advisory, its severity and "
        "the fixed versions. Exit status: 0 none at or above --fail-on, 1 some, 2 not audited (no "
        "advisory database, unknown REF), 4 bad usage.",
    )
    parser.add_argument("ref", metavar="REF", nargs="?")
    parser.add_argument("--all", action="store_true", help="every registered version")
    parser.add_argument(
        "--fail-on",
        type=_severity,
        default=Severity.INFO,
        metavar="SEVERITY",
        help="exit 1 for a vulnerability at or above this (default info: any; unrated counts as high)",
    )
    parser.add_argument("--actor", help="who is auditing, for the audit log (default: the login name)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=_audit_deps)


def _severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _sbom(args: argparse.Namespace) -> int:
    from modelsteward.registry import Registry, RegistryError  # noqa: PLC0415
    from modelsteward.reports.cyclonedx import render_sbom  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415

    try:
        with Registry.open(Settings.from_env().database_url) as registry:
            version = registry.get(args.ref)
            components = registry.components(version.ref)
            vulnerabilities = [item.vulnerability for item in registry.vulnerabilities(version.ref)]
    except RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    document = render_sbom(
        version.name, version.number, components, vulnerabilities, created=datetime.now(UTC)
    )
    if args.output is None:
        sys.stdout.write(document)
        return EXIT_OK
    try:
        args.output.write_text(document, encoding="utf-8")
    except OSError as error:
        print(f"error: cannot write {args.output}: {error.strerror or error}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _sync(args: argparse.Namespace) -> int:
    from modelsteward.registry import Registry, RegistryError  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415
    from modelsteward.watch import SyncError, sync_advisories  # noqa: PLC0415

    progress = progress_line(args.quiet)
    try:
        with Registry.open(Settings.from_env().database_url) as registry:
            synced = sync_advisories(
                registry,
                args.location,
                env=dict(os.environ),
                actor=actor(args.actor),
                progress=progress or (lambda _message: None),
            )
    except (SyncError, RegistryError) as error:
        clear(progress)
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    clear(progress)
    sync, changes = synced.sync, synced.changes
    if args.json:
        document = {
            "added": len(sync.added),
            "updated": len(sync.updated),
            "unchanged": sync.unchanged,
            "total": sync.total,
            "other_ecosystems": synced.other_ecosystems,
            "invalid": list(synced.invalid),
            "found": [_affected_json(item) for item in changes.found],
            "resolved": [_affected_json(item) for item in changes.resolved],
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(
            f"{len(sync.added)} advisories added, {len(sync.updated)} updated, {sync.unchanged} unchanged; "
            f"{sync.total} stored ({synced.other_ecosystems} records of other ecosystems skipped)"
        )
        for line in synced.invalid[:5]:
            print(f"warning: skipped {line}", file=sys.stderr)
        if len(synced.invalid) > 5:
            print(f"warning: and {len(synced.invalid) - 5} more broken records", file=sys.stderr)
        _print_affected("newly affected", changes.found)
        _print_affected("no longer affected", changes.resolved)
    return EXIT_INCOMPLETE if synced.invalid else EXIT_OK


def _audit_deps(args: argparse.Namespace) -> int:
    from modelsteward.registry import Registry, RegistryError  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415
    from modelsteward.watch import audit_registry  # noqa: PLC0415

    if (args.ref is None) == (not args.all):
        print("error: give either a REF or --all", file=sys.stderr)
        return EXIT_USAGE
    try:
        with Registry.open(Settings.from_env().database_url) as registry:
            audit_registry(registry, actor=actor(args.actor))
            refs = [registry.get(args.ref).ref] if args.ref is not None else _every_version(registry)
            affected = [item for ref in refs for item in registry.vulnerabilities(ref)]
            stored = registry.advisory_count()
    except RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        document = {"advisories": stored, "vulnerabilities": [_affected_json(item) for item in affected]}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    elif not stored:
        print("no advisory database: run `steward advisories sync --from URL|DIR|ZIP` first", file=sys.stderr)
    elif not affected:
        print(f"no known vulnerability ({stored} advisories)")
    else:
        _print_affected("vulnerable", affected)
    if not stored:
        return EXIT_ERROR
    worst = max((_rated(item) for item in affected), default=None)
    return EXIT_FINDINGS if worst is not None and worst >= args.fail_on else EXIT_OK


def _every_version(registry: Registry) -> list[str]:
    return [
        f"{model.name}@{number}"
        for model in registry.list_models()
        for number in range(1, model.versions + 1)
    ]


def _rated(item: AffectedVersion) -> Severity:
    from modelsteward.checks.dependencies import UNRATED  # noqa: PLC0415

    return item.vulnerability.severity or UNRATED


def _affected_json(item: AffectedVersion) -> dict[str, Any]:
    return {
        "version": item.ref,
        **item.vulnerability.to_json(),
        "found": item.found.isoformat(),
        "resolved": None if item.resolved is None else item.resolved.isoformat(),
    }


def _print_affected(heading: str, items: Sequence[AffectedVersion]) -> None:
    if not items:
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"{len(items)} {heading}", title_justify="left")
    for column in ("version", "component", "advisory", "severity", "fix", "origin"):
        table.add_column(column)
    for item in items:
        v = item.vulnerability
        table.add_row(
            item.ref,
            f"{v.component.name} {v.component.version}",
            "\n".join(v.ids),
            v.severity.label if v.severity is not None else "unrated",
            v.remedy,
            v.component.origin.value,
        )
    Console(soft_wrap=True).print(table)
