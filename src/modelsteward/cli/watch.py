"""``steward watch``: upstream revisions and new advisories, once or every interval."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from modelsteward._text import printable
from modelsteward.cli import _evaluation_options, _notifiers
from modelsteward.cli._actor import actor
from modelsteward.cli._exit import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from modelsteward.cli._notifiers import NOTIFY_FILE
from modelsteward.cli._progress import clear, progress_line

if TYPE_CHECKING:
    from modelsteward.gate import EvaluationRequest
    from modelsteward.notify import Notifier
    from modelsteward.policy import Policy
    from modelsteward.settings import Settings
    from modelsteward.watch import WatchReport

_INTERVAL = re.compile(r"(\d+)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``watch`` to the command parsers."""
    parser = commands.add_parser(
        "watch",
        help="check upstream sources and advisories for every registered model",
        description="Check every registered model that has an upstream source (hf:// or git) for new "
        "revisions, licence and gating changes and a new_version pointer; admit each new revision as a "
        "candidate version through the gate (no alias moves); audit every version against the advisory "
        "database; notify. Runs once (for cron) unless --every is given. Exit status: 0 nothing new, "
        "1 something was found, 2 the registry could not be read, 4 bad usage.",
    )
    parser.add_argument("--every", type=_interval, metavar="INTERVAL", help="run every 30m, 6h, 1d, ...")
    parser.add_argument(
        "--policy", type=Path, metavar="FILE", help="policy for candidates (default: the built-in policy)"
    )
    parser.add_argument(
        "--notify",
        type=Path,
        metavar="FILE",
        help=f"notifications config (default: $STEWARD_HOME/{NOTIFY_FILE} if it exists)",
    )
    parser.add_argument(
        "--evaluate",
        action="append",
        default=[],
        metavar="NAME=OPTIONS",
        help="evaluate candidates of NAME with these admit options, e.g. "
        "'org/clf=--data eval.csv --task classification --columns label=y' (repeatable)",
    )
    parser.add_argument("--actor", help="who is watching, for the audit log (default: the login name)")
    parser.add_argument("--json", action="store_true", help="print each run as one JSON line")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(run=run)


def _interval(text: str) -> float:
    match = _INTERVAL.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"expected an interval such as 30m, 6h or 1d (got {text!r})")
    return int(match.group(1)) * _SECONDS[match.group(2)]


def run(args: argparse.Namespace) -> int:
    """Watch once, or every ``--every`` until interrupted; return 1 when the last run found something."""
    from modelsteward.notify import NotifyConfigError  # noqa: PLC0415
    from modelsteward.policy import PolicyError, default_policy, load_policy  # noqa: PLC0415
    from modelsteward.registry import RegistryError  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415

    settings = Settings.from_env()
    try:
        policy = default_policy() if args.policy is None else load_policy(args.policy)
        notifiers = _notifiers.notifiers(args.notify, settings.home)
        evaluations = _evaluations(args.evaluate)
    except (PolicyError, NotifyConfigError, _evaluation_options.OptionError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    status = EXIT_OK
    try:
        while True:
            try:
                report = _run_once(args, settings, policy, notifiers, evaluations)
            except RegistryError as error:
                # Under --every a database that is down now may be back at the next run.
                print(f"error: {error}", file=sys.stderr)
                status = EXIT_ERROR
            else:
                status = EXIT_FINDINGS if report.notifications else EXIT_OK
            if args.every is None:
                return status
            time.sleep(args.every)
    except KeyboardInterrupt:
        return status


def _run_once(
    args: argparse.Namespace,
    settings: Settings,
    policy: Policy,
    notifiers: tuple[Notifier, ...],
    evaluations: dict[str, EvaluationRequest],
) -> WatchReport:
    from modelsteward.watch import watch_once  # noqa: PLC0415

    progress = progress_line(args.quiet)
    try:
        report = watch_once(
            settings=settings,
            policy=policy,
            notifiers=notifiers,
            actor=actor(args.actor),
            env=os.environ,
            evaluations=evaluations,
            progress=progress,
        )
    finally:
        clear(progress)
    if args.json:
        print(json.dumps(_report_json(report), ensure_ascii=False), flush=True)
    else:
        _print_report(report)
    return report


class _OptionsParser(argparse.ArgumentParser):
    """The admit evaluation options, parsed from one ``--evaluate`` value: errors raise, never exit."""

    def error(self, message: str) -> NoReturn:
        raise ValueError(message)


def _evaluations(entries: list[str]) -> dict[str, EvaluationRequest]:
    """``NAME=OPTIONS`` -> the evaluation those admit options describe."""
    parser = _OptionsParser(prog="steward watch --evaluate NAME=", add_help=False)
    _evaluation_options.add(parser, data_required=True)
    found = {}
    for entry in entries:
        name, equals, options = entry.partition("=")
        if not equals or not name.strip():
            raise ValueError(
                f"--evaluate {entry!r}: expected NAME=OPTIONS such as 'org/clf=--data eval.csv ...'"
            )
        try:
            parsed = parser.parse_args(shlex.split(options))
        except ValueError as error:
            raise ValueError(f"--evaluate {name.strip()}: {error}") from None
        found[name.strip()] = _evaluation_options.request(parsed)
    return found


def _report_json(report: WatchReport) -> dict[str, Any]:
    return {
        "at": report.at.isoformat(),
        "models": [
            {
                "name": m.name,
                "source": m.source,
                "followed": m.followed,
                "revision": m.revision,
                "candidate": None if m.candidate is None else m.candidate.registered.ref,
                "verdict": None if m.candidate is None else m.candidate.admission.decision.verdict.value,
                "diff": None if m.diff is None else m.diff.to_json(),
                "error": m.error,
            }
            for m in report.models
        ],
        "notifications": [note.to_json() for note in report.notifications],
        "deliveries": [{"notifier": d.notifier, "ok": d.ok, "error": d.error} for d in report.deliveries],
    }


def _print_report(report: WatchReport) -> None:
    watched = len(report.models)
    print(f"{report.at:%Y-%m-%d %H:%M:%S} UTC: {watched} upstream sources checked")
    for note in report.notifications:
        print()
        # Upstream text reaches the terminal here: no control character of it is sent raw.
        text = note.to_text()
        print(printable(text, len(text), keep="\n"))
    if not report.notifications:
        print("nothing new")
    for delivery in report.deliveries:
        if not delivery.ok:
            print(f"warning: notifier {delivery.notifier} failed: {delivery.error}", file=sys.stderr)
