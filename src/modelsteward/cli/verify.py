"""``steward verify``: the files of a registered version, unchanged?"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelsteward._text import printable
from modelsteward.cli._exit import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK
from modelsteward.cli._server import run_job, server_of


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``verify`` to the command parsers."""
    parser = commands.add_parser(
        "verify",
        help="compare files with a registered version's manifest and signature",
        description=(
            "Report every changed, missing and extra file of PATH (default: the version's copy in the "
            "artifact store) against the manifest registered for NAME@VERSION, and check the enterprise "
            "signature over that manifest. Exit status: 0 unchanged, 1 any difference or a broken "
            "signature, 2 error."
        ),
    )
    parser.add_argument("ref", metavar="NAME@VERSION")
    parser.add_argument("path", type=Path, nargs="?", metavar="PATH")
    parser.add_argument("--json", action="store_true", help="print the differences as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Verify ``args.path`` against ``args.ref``; print every difference."""
    server = server_of(args)
    if server is not None:
        return _run_on(server, args)
    from modelsteward.gate import verify  # noqa: PLC0415
    from modelsteward.registry import RegistryError  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415
    from modelsteward.sources import SourceError  # noqa: PLC0415

    try:
        result = verify(args.ref, settings=Settings.from_env(), path=args.path)
    except (RegistryError, SourceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INCOMPLETE
    return show(result.to_json(), as_json=args.json)


def _run_on(server: str, args: argparse.Namespace) -> int:
    """Verify the server's stored copy as a job of ``server``, and print what a local verify prints."""
    from modelsteward.registry import RegistryError  # noqa: PLC0415

    if args.path is not None:
        print(
            "error: PATH with a server: the server verifies its stored copy; verify files here against "
            "a registry that holds the version (without --server)",
            file=sys.stderr,
        )
        return EXIT_INCOMPLETE
    try:
        document = run_job(args, server, "verify", {"ref": args.ref}, None)
    except RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INCOMPLETE
    return show(document, as_json=args.json)


def show(document: Mapping[str, Any], *, as_json: bool) -> int:
    """Print what ``steward verify`` prints of a verification's JSON document; its exit status."""
    if as_json:
        print(json.dumps(document, indent=2))
    else:
        for kind in ("changed", "missing", "extra"):
            for path in document[kind]:
                # File names come from the folder being checked: no control character reaches the terminal.
                print(f"{kind}: {printable(path, len(path))}")
        if not document["signature"]:
            print("signature: the enterprise signature over the registered manifest does not verify")
        state = "unchanged" if document["ok"] else "DIFFERS"
        print(f"{document['ref']}: {document['path']} {state} ({document['files']} files)")
    return EXIT_OK if document["ok"] else EXIT_FINDINGS
