"""The options ``evaluate``, ``compare`` and ``admit`` share to describe an evaluation."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelsteward.gate import EvaluationRequest

TASKS = ("classification", "regression", "retrieval", "generation", "entities")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_MIN_MEMORY = 512 << 20


class OptionError(ValueError):
    """An option value that cannot be used; the message names the option."""


def add(parser: argparse.ArgumentParser, *, data_required: bool) -> None:
    """Add the evaluation options to ``parser``; ``--data`` is optional where evaluating is."""
    data = parser.add_argument_group("evaluation data")
    data.add_argument(
        "--data", type=Path, required=data_required, metavar="FILE", help="CSV, Parquet or JSONL"
    )
    data.add_argument("--task", choices=TASKS, help="what the model is evaluated on")
    data.add_argument(
        "--columns",
        default="",
        metavar="ROLE=COLUMN,...",
        help="column roles: text, features (repeatable), label, reference, query, document, group, id",
    )
    data.add_argument("--limit", type=int, metavar="N", help="evaluate a stratified sample of N rows")
    model = parser.add_argument_group("model")
    model.add_argument(
        "--endpoint-model", metavar="NAME", help="for a MODEL given as an OpenAI-compatible URL"
    )
    model.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the endpoint's key")
    model.add_argument(
        "--adapter", help="sklearn, onnx, transformers, sentence-transformers (default: by content)"
    )
    model.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE", help="adapter option (JSON value)"
    )
    model.add_argument(
        "--run-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="option of every batch, such as max_new_tokens=32 (JSON value)",
    )
    runs = parser.add_argument_group("measurement")
    runs.add_argument("--batch-size", type=int, default=32, metavar="N", help="rows per batch (32)")
    runs.add_argument("--batch-sizes", default="1,8,32", metavar="N,...", help="scaling curve batch sizes")
    runs.add_argument("--concurrency", default="1", metavar="N,...", help="scaling curve worker counts (1)")
    runs.add_argument("--resamples", type=int, default=1000, metavar="N", help="bootstrap resamples (1000)")
    runs.add_argument("--seed", type=int, default=0, help="seed of sampling and resampling (0)")
    fair = parser.add_argument_group("fairness")
    fair.add_argument("--sensitive", default="", metavar="COLUMN,...", help="columns naming groups of people")
    fair.add_argument("--positive", metavar="LABEL", help="the favourable label for group metrics")
    fair.add_argument(
        "--min-group", type=int, default=30, metavar="N", help="smaller groups are not judged (30)"
    )
    fair.add_argument("--association-tests", type=Path, metavar="FILE", help="WEAT/SEAT tests (YAML or JSON)")
    fair.add_argument("--swaps", type=Path, metavar="FILE", help="extra identity-term pairs (YAML)")
    fair.add_argument("--no-fairness", action="store_true", help="skip association and counterfactual tests")
    box = parser.add_argument_group("sandbox")
    box.add_argument(
        "--isolation", choices=("bubblewrap", "unshare", "none"), help="default: the strongest here"
    )
    box.add_argument(
        "--no-sandbox", action="store_true", help="allow running the model without isolation (recorded)"
    )
    box.add_argument("--memory", default="4G", metavar="SIZE", help="worker address-space limit (4G)")
    box.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS", help="per batch (600)")


def request(args: argparse.Namespace) -> EvaluationRequest:
    """The evaluation the options describe; raises :class:`OptionError` or the data's own error."""
    from modelsteward.evaluation import (  # noqa: PLC0415 - heavy; only when evaluating
        EvaluationSettings,
        FairnessSettings,
        Task,
        parse_columns,
    )
    from modelsteward.gate import EvaluationRequest  # noqa: PLC0415
    from modelsteward.runtime.sandbox import Isolation, Limits, SandboxConfig  # noqa: PLC0415

    if args.task is None:
        raise OptionError("--task is required with --data")
    if args.batch_size < 1 or args.resamples < 0:
        raise OptionError("--batch-size must be at least 1 and --resamples at least 0")
    if args.min_group < 1:
        raise OptionError(f"--min-group must be at least 1 (got {args.min_group})")
    if not args.timeout > 0:
        raise OptionError(f"--timeout must be a positive number of seconds (got {args.timeout:g})")
    settings = EvaluationSettings(
        task=Task(args.task),
        batch_size=args.batch_size,
        batch_sizes=_counts(args.batch_sizes, "--batch-sizes", allow_empty=True),
        concurrency=_counts(args.concurrency, "--concurrency", allow_empty=False),
        resamples=args.resamples,
        seed=args.seed,
        run_options=_run_options(args.run_option),
        fairness=FairnessSettings(
            positive=args.positive,
            min_group_size=args.min_group,
            associations=not args.no_fairness,
            association_tests=args.association_tests,
            counterfactual=not args.no_fairness,
            swaps=args.swaps,
            batch_size=args.batch_size,
        ),
        sandbox=SandboxConfig(
            limits=Limits(memory_bytes=_size(args.memory)),
            isolation=None if args.isolation is None else Isolation(args.isolation),
            allow_unsandboxed=args.no_sandbox,
            call_timeout=args.timeout,
        ),
    )
    return EvaluationRequest(
        data=args.data,
        columns=parse_columns(args.columns, args.sensitive),
        settings=settings,
        limit=args.limit,
        adapter=args.adapter,
        adapter_options=_pairs(args.option, "--option"),
        endpoint_model=args.endpoint_model,
        api_key_env=args.api_key_env,
    )


# What an evaluate job (POST /api/v1/jobs/evaluate) takes, by option; the server decides the rest.
_JOB_FIELDS = {
    "data": "data",
    "task": "task",
    "columns": "columns",
    "limit": "limit",
    "adapter": "adapter",
    "option": "options",
    "sensitive": "sensitive",
    "positive": "positive",
    "resamples": "resamples",
    "seed": "seed",
    "no_fairness": "no_fairness",
    "batch_size": "batch_size",
}


def job_body(args: argparse.Namespace) -> dict[str, Any]:
    """The options as the body of a server's evaluate job; OptionError names an option given that a job
    does not take."""
    if args.task is None:
        raise OptionError("--task is required with --data")
    blank = argparse.ArgumentParser(add_help=False)
    add(blank, data_required=False)
    defaults = vars(blank.parse_args([]))
    for dest in sorted(_LOCAL_ONLY):
        if getattr(args, dest) != defaults[dest]:
            raise OptionError(
                f"--{dest.replace('_', '-')} with a server: its evaluate jobs do not take it (docs/server.md)"
            )
    body = {field: getattr(args, dest) for dest, field in _JOB_FIELDS.items()}
    body["data"] = str(args.data)
    body["options"] = _pairs(args.option, "--option")
    return body


# The evaluation options a job does not take: endpoints, the measurement curve, fairness files and the
# sandbox's settings are the server's.
_LOCAL_ONLY = frozenset(
    {
        "endpoint_model",
        "api_key_env",
        "run_option",
        "batch_sizes",
        "concurrency",
        "min_group",
        "association_tests",
        "swaps",
        "isolation",
        "no_sandbox",
        "memory",
        "timeout",
    }
)


# Options every batch may carry, and what each must be.
_RUN_OPTIONS = {
    "max_new_tokens": "a whole number of at least 1",
    "system_prompt": "text",
    "temperature": "a number of at least 0",
}


def _run_options(items: list[str]) -> dict[str, Any]:
    values = _pairs(items, "--run-option")
    for key, value in values.items():
        if key not in _RUN_OPTIONS:
            raise OptionError(
                f"--run-option: {key!r} is not a run option; the run options are {', '.join(_RUN_OPTIONS)}"
            )
        valid = {
            "max_new_tokens": type(value) is int and value >= 1,
            "system_prompt": isinstance(value, str),
            "temperature": type(value) in (int, float) and value >= 0,
        }[key]
        if not valid:
            raise OptionError(f"--run-option: {key} must be {_RUN_OPTIONS[key]} (got {value!r})")
    return values


def check_comparison(models: list[str], metric: str | None, request: EvaluationRequest) -> None:
    """Refuse a comparison that cannot be made before any model runs: fewer than two distinct models, or
    a metric the task does not measure."""
    from modelsteward.checks.performance.metrics import METRICS  # noqa: PLC0415

    if len(models) < 2:
        raise OptionError("compare needs at least two models")
    repeated = sorted({model for model in models if models.count(model) > 1})
    if repeated:
        raise OptionError(f"each model is compared once; given more than once: {', '.join(repeated)}")
    task = request.settings.task
    measured = [name for name, info in METRICS.items() if info.task == task]
    if metric is not None and metric not in measured:
        raise OptionError(
            f"--metric {metric} is not measured by the {task} task; it measures {', '.join(measured)}"
        )


def _counts(text: str, option: str, *, allow_empty: bool) -> tuple[int, ...]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items and not allow_empty:
        raise OptionError(f"{option} needs at least one number")
    try:
        values = tuple(int(item) for item in items)
    except ValueError:
        raise OptionError(
            f"{option} must be positive whole numbers separated by commas (got {text!r})"
        ) from None
    if any(value < 1 for value in values):
        raise OptionError(f"{option} must be positive whole numbers (got {text!r})")
    return values


def _pairs(items: list[str], option: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items:
        key, equals, raw = item.partition("=")
        if not equals or not key.strip():
            raise OptionError(f"{option} {item!r} is not KEY=VALUE")
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw  # a bare word is a string
    return values


def _size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise OptionError(f"--memory must be a size such as 4G or 512M (got {text!r})")
    size = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    # Python with numpy alone maps more than this; a smaller limit fails at start, far from the cause.
    if size < _MIN_MEMORY:
        raise OptionError(
            f"--memory must be at least 512M: the worker's interpreter alone needs that (got {text})"
        )
    return size
