"""``steward policy``: check a policy file, or print the schema it is checked against."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from modelsteward.cli._exit import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from modelsteward.policy import Policy


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``policy validate`` and ``policy schema`` to the command parsers."""
    parser = commands.add_parser(
        "policy",
        help="check a policy file, or print its JSON Schema",
        description="Check a policy file, or print the JSON Schema policy files are checked against.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    validate = actions.add_parser(
        "validate",
        help="check a policy file and report every error with its line and column",
        description="Check a policy file and report every error with its line and column.",
        epilog="exit status: 0 valid, 1 invalid, 4 on bad usage or a file that cannot be read",
    )
    validate.add_argument("file", type=Path, metavar="FILE", help="the policy YAML file")
    validate.add_argument("--json", action="store_true", help="print the result as JSON")
    validate.set_defaults(run=run_validate)
    schema = actions.add_parser(
        "schema",
        help="print the JSON Schema of a policy file",
        description="Print the JSON Schema of a policy file (for editors that validate YAML).",
    )
    schema.set_defaults(run=run_schema)


def run_validate(args: argparse.Namespace) -> int:
    """Validate ``args.file``; print it valid with its name and digest, or every error, one per line."""
    from modelsteward.policy import PolicyError, load_policy  # noqa: PLC0415 - keep start-up short

    path: Path = args.file
    try:
        policy = load_policy(path)
    except PolicyError as error:
        if args.json:
            _print_json(path, None, [issue.to_json() for issue in error.issues])
        else:
            for issue in error.issues:
                print(f"error: {issue}", file=sys.stderr)
        # An issue without a line is the file itself (unreadable), not its content.
        return EXIT_USAGE if any(issue.line is None for issue in error.issues) else EXIT_FINDINGS
    if args.json:
        _print_json(path, policy, [])
    else:
        print(f"{path}: valid ({policy.name}, {policy.digest})")
    return EXIT_OK


def _print_json(path: Path, policy: Policy | None, errors: list[dict[str, object]]) -> None:
    document = {
        "file": str(path),
        "valid": policy is not None,
        "name": None if policy is None else policy.name,
        "digest": None if policy is None else policy.digest,
        "errors": errors,
    }
    print(json.dumps(document, indent=2))


def run_schema(args: argparse.Namespace) -> int:
    """Print the policy JSON Schema; ``args`` is unused, as every command is handed its arguments."""
    from modelsteward.policy import policy_json_schema  # noqa: PLC0415 - keep start-up short

    print(json.dumps(policy_json_schema(), indent=2))
    return EXIT_OK
