"""``steward evaluate`` and ``steward compare``: models on the enterprise's own data, in the sandbox."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelsteward.cli import _evaluation_options
from modelsteward.cli._actor import actor
from modelsteward.cli._exit import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from modelsteward.cli._progress import clear, progress_line
from modelsteward.cli._server import run_job, server_of
from modelsteward.core.progress import Progress

if TYPE_CHECKING:
    from rich.console import Console


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``evaluate`` and ``compare`` to the command parsers."""
    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate a model on your data in the sandbox: metrics, costs, fairness",
        description=(
            "Load MODEL (NAME@VERSION, NAME@ALIAS or a model folder) in a sandboxed worker, or call it at "
            "an OpenAI-compatible URL (with --endpoint-model), run the data "
            "through it and report metrics with confidence intervals, latency and throughput, and "
            "fairness evidence. A registered version's evaluation is recorded in the registry. "
            "Exit status: 0 done, 2 the model could not be run, 4 bad options or data."
        ),
    )
    evaluate.add_argument("model", metavar="MODEL")
    _evaluation_options.add(evaluate, data_required=True)
    evaluate.add_argument("--no-record", action="store_true", help="do not record the result in the registry")
    evaluate.add_argument("--actor", help="who is evaluating (default: the login name)")
    _outputs(evaluate)
    evaluate.set_defaults(run=run_evaluate)
    compare = commands.add_parser(
        "compare",
        help="evaluate several models on the same rows and rank them, with significance",
        description=(
            "Evaluate each MODEL on the same rows and rank them by one metric, with the paired "
            "significance of each gap to the best (paired bootstrap, or McNemar's test for accuracy)."
        ),
    )
    compare.add_argument("models", metavar="MODEL", nargs="+")
    _evaluation_options.add(compare, data_required=True)
    compare.add_argument("--metric", help="the metric to rank by (default: the task's main metric)")
    _outputs(compare)
    compare.set_defaults(run=run_compare)


def _outputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write a report with plots")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate one model and print the result."""
    from modelsteward.gate import evaluate_model  # noqa: PLC0415 - heavy; on demand
    from modelsteward.reports import evaluation_html, evaluation_text  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415

    def call(progress: Progress | None) -> dict[str, Any]:
        evaluated = evaluate_model(
            args.model,
            _evaluation_options.request(args),
            settings=Settings.from_env(),
            actor=actor(args.actor),
            record=not args.no_record,
            progress=progress,
        )
        document = evaluated.evaluation.to_json()
        document["recorded"] = evaluated.ref if evaluated.recorded else None
        return document

    server = server_of(args)
    if server is not None:
        call = partial(_job_on, server, args, "evaluate", {"model": args.model, "record": not args.no_record})
    return _run(args, call, evaluation_text.render_evaluation, evaluation_html.render_evaluation_html)


def _job_on(
    server: str, args: argparse.Namespace, kind: str, what: dict[str, Any], progress: Progress | None
) -> dict[str, Any]:
    """What the command prints with ``--json``, from a job of ``kind`` of ``server`` evaluating ``what``
    on data the server holds."""
    body = {**_evaluation_options.job_body(args), **what}
    return dict(run_job(args, server, kind, body, progress))


def run_compare(args: argparse.Namespace) -> int:
    """Evaluate every model on the same rows and print the leaderboard."""
    from modelsteward.gate import compare_models  # noqa: PLC0415
    from modelsteward.reports import evaluation_html, evaluation_text  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415

    def call(progress: Progress | None) -> dict[str, Any]:
        request = _evaluation_options.request(args)
        _evaluation_options.check_comparison(args.models, args.metric, request)
        leaderboard = compare_models(
            args.models, request, settings=Settings.from_env(), metric=args.metric, progress=progress
        )
        return leaderboard.to_json()

    server = server_of(args)
    if server is not None:
        call = partial(_job_on, server, args, "compare", {"models": args.models, "metric": args.metric})
    return _run(args, call, evaluation_text.render_leaderboard, evaluation_html.render_leaderboard_html)


def _run(
    args: argparse.Namespace,
    call: Callable[[Progress | None], dict[str, Any]],
    render_text: Callable[[Mapping[str, Any], Console], None],
    render_html: Callable[[Mapping[str, Any]], str],
) -> int:
    """Run ``call``, then print (and write) the document it returned."""
    from modelsteward.evaluation import DatasetError, EvaluationError  # noqa: PLC0415
    from modelsteward.registry import RegistryError  # noqa: PLC0415
    from modelsteward.reports.admission_text import console  # noqa: PLC0415
    from modelsteward.runtime.sandbox import SandboxUnavailable  # noqa: PLC0415

    progress = progress_line(args.quiet)
    try:
        document = call(progress)
    except (_evaluation_options.OptionError, DatasetError, SandboxUnavailable) as error:
        clear(progress)
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (EvaluationError, RegistryError) as error:
        clear(progress)
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    clear(progress)
    if args.html is not None:
        args.html.write_text(render_html(document), encoding="utf-8")
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        render_text(document, console())
    return EXIT_OK
