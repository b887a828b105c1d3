"""``steward admit``: the adoption gate."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelsteward.cli import _evaluation_options
from modelsteward.cli._actor import actor
from modelsteward.cli._exit import EXIT_ERROR, EXIT_USAGE
from modelsteward.cli._progress import clear, progress_line
from modelsteward.cli._server import run_job, server_of

# The exit status of each verdict, and of a gate that could not decide.
EXIT_APPROVE = 0
EXIT_REJECT = 1
EXIT_REVIEW = 3


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``admit`` to the command parsers."""
    parser = commands.add_parser(
        "admit",
        help="fetch a model at a pinned revision, check it, decide by policy and register it",
        description=(
            "Fetch SOURCE (a folder or file, hf://org/name[@revision], or a git URL[@revision]) at a "
            "pinned revision, run every check, decide by the policy and register the version. With --data, "
            "also evaluate it on your data in the sandbox (performance and fairness checks). "
            "Exit status: 0 approve, 3 review, 1 reject, 2 error."
        ),
    )
    parser.add_argument("source", metavar="SOURCE")
    parser.add_argument("--name", required=True, help="the registry name of the model")
    parser.add_argument(
        "--policy", type=Path, metavar="FILE", help="policy YAML (default: the built-in policy)"
    )
    parser.add_argument(
        "--derived-from", metavar="NAME@VERSION", help="the registered model this one derives from"
    )
    parser.add_argument("--actor", help="who is admitting (default: the login name)")
    _evaluation_options.add(parser, data_required=False)
    parser.add_argument("--json", action="store_true", help="print the whole assessment as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Admit ``args.source`` and print the outcome; return the verdict's exit status."""
    server = server_of(args)
    if server is not None:
        return _run_on(server, args)
    # Imported here so that `steward --help` and `steward scan` never load the registry stack.
    from modelsteward.evaluation import DatasetError  # noqa: PLC0415
    from modelsteward.gate import AdmitError, admit  # noqa: PLC0415
    from modelsteward.policy import PolicyError, default_policy, load_policy  # noqa: PLC0415
    from modelsteward.registry import RegistryError  # noqa: PLC0415
    from modelsteward.reports.admission_json import outcome_to_json  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415

    try:
        policy = default_policy() if args.policy is None else load_policy(args.policy)
    except PolicyError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        evaluation = None if args.data is None else _evaluation_options.request(args)
    except (_evaluation_options.OptionError, DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    progress = progress_line(args.quiet)
    try:
        outcome = admit(
            args.source,
            name=args.name,
            policy=policy,
            settings=Settings.from_env(),
            actor=actor(args.actor),
            derived_from=args.derived_from,
            evaluation=evaluation,
            env=os.environ,
            progress=progress,
        )
    except (AdmitError, RegistryError) as error:
        clear(progress)
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    clear(progress)
    return show(outcome_to_json(outcome), as_json=args.json)


def _run_on(server: str, args: argparse.Namespace) -> int:
    """Admit as a job of ``server``, showing its progress, and print what a local admission prints."""
    from modelsteward.registry import RegistryError, RegistryInputError  # noqa: PLC0415

    progress = progress_line(args.quiet, prefix=f"{server}: ")
    try:
        if args.data is not None:
            raise RegistryInputError(
                "--data with a server: evaluate there with POST /api/v1/jobs/evaluate on data the server "
                "holds (docs/server.md)"
            )
        body = {"source": args.source, "name": args.name, "derived_from": args.derived_from}
        document = run_job(args, server, "admit", body, progress)
    except RegistryInputError as error:
        clear(progress)
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RegistryError as error:
        clear(progress)
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    clear(progress)
    return show(document, as_json=args.json)


def show(document: Mapping[str, Any], *, as_json: bool) -> int:
    """Print what ``steward admit`` prints of an admission's ``--json`` document; its verdict's status."""
    from modelsteward.reports import admission_text  # noqa: PLC0415

    if as_json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        admission_text.render(document, admission_text.console())
    return {"approve": EXIT_APPROVE, "review": EXIT_REVIEW, "reject": EXIT_REJECT}[
        document["decision"]["verdict"]
    ]
