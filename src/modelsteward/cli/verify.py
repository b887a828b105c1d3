"""``steward verify``: the files of a registered version, unchanged?"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from modelsteward._text import printable
from modelsteward.cli._exit import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK


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
    from modelsteward.gate import verify  # noqa: PLC0415
    from modelsteward.registry import RegistryError  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415
    from modelsteward.sources import SourceError  # noqa: PLC0415

    try:
        result = verify(args.ref, settings=Settings.from_env(), path=args.path)
    except (RegistryError, SourceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INCOMPLETE
    version = result.version
    differences = {"changed": result.diff.changed, "missing": result.diff.missing, "extra": result.diff.extra}
    if args.json:
        document = {
            "ref": f"{version.name}@{version.number}",
            "path": str(result.path),
            "ok": result.ok,
            "signature": result.signature,
            **{kind: list(paths) for kind, paths in differences.items()},
        }
        print(json.dumps(document, indent=2))
    else:
        for kind, paths in differences.items():
            for path in paths:
                # File names come from the folder being checked: no control character reaches the terminal.
                print(f"{kind}: {printable(path, len(path))}")
        if not result.signature:
            print("signature: the enterprise signature over the registered manifest does not verify")
        state = "unchanged" if result.ok else "DIFFERS"
        print(f"{version.name}@{version.number}: {result.path} {state} ({len(version.manifest.files)} files)")
    return EXIT_OK if result.ok else EXIT_FINDINGS
