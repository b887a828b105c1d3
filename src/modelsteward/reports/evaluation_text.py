"""The human-readable output of ``steward evaluate`` and ``steward compare``, from their JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


def render_evaluation(evaluation: Mapping[str, Any], out: Console) -> None:
    """Print the metrics with intervals, the costs and the fairness evidence of one evaluation."""
    dataset = evaluation["dataset"]
    model = evaluation["model"]
    out.print(
        Text(f"{evaluation['candidate']}: {evaluation['task']} on {dataset['rows']} rows", style="bold")
    )
    out.print(f"model: {model['adapter']} ({model['framework']}), isolation: {evaluation['isolation']}")
    if evaluation["isolation"] == "none":
        out.print(Text("warning: the model ran without a sandbox", style="bold yellow"))
    table = Table("metric", "value", "95% interval", title="metrics", title_justify="left")
    for name, estimate in evaluation["metrics"].items():
        table.add_row(name, _number(estimate["value"]), _interval(estimate))
    out.print(table)
    _efficiency(evaluation["efficiency"], out)
    fairness = evaluation.get("fairness")
    if fairness:
        _fairness(fairness, out)


def render_leaderboard(leaderboard: Mapping[str, Any], out: Console) -> None:
    """Print the ranking, each gap to the best with its significance, then each evaluation briefly."""
    metric = leaderboard["metric"]
    direction = "higher" if leaderboard["higher_is_better"] else "lower"
    out.print(
        Text(
            f"{leaderboard['task']} on {leaderboard['rows']} rows, "
            f"ranked by {metric} ({direction} is better)",
            style="bold",
        )
    )
    table = Table("rank", "candidate", metric, "95% interval", "gap to best", "p-value", "test")
    for standing in leaderboard["standings"]:
        gap = standing["against_best"]
        table.add_row(
            str(standing["rank"]),
            standing["candidate"],
            _number(standing["score"]["value"]),
            _interval(standing["score"]),
            "" if gap is None else f"{_number(gap['difference']['value'])} {_interval(gap['difference'])}",
            "" if gap is None else _number(gap["p_value"]),
            "" if gap is None else gap["test"],
        )
    out.print(table)
    verdict = "significantly" if leaderboard["best_is_significant"] else "not significantly"
    out.print(
        f"best: {leaderboard['best']}, {verdict} better than every other candidate "
        f"at alpha {leaderboard['alpha']}"
    )
    for evaluation in leaderboard["evaluations"]:
        out.print()
        render_evaluation(evaluation, out)


def _efficiency(efficiency: Mapping[str, Any], out: Console) -> None:
    latency = efficiency["latency_ms"]
    memory = efficiency["peak_memory_bytes"]
    size = efficiency["size_bytes"]
    out.print(
        f"latency per batch of {efficiency['batch_size']}: p50 {latency['p50']:.1f} ms, "
        f"p95 {latency['p95']:.1f} ms, p99 {latency['p99']:.1f} ms; "
        f"throughput {efficiency['throughput']:.1f} rows/s"
    )
    out.print(
        f"load {efficiency['load_seconds']:.2f} s (sandbox start {efficiency['sandbox_start_seconds']:.2f} s)"
        + ("" if memory is None else f", peak memory {_bytes(memory)}")
        + ("" if size is None else f", size on disk {_bytes(size)}")
    )
    points = efficiency["scaling"]
    if points:
        table = Table(
            "batch", "workers", "p50 ms", "p95 ms", "p99 ms", "rows/s", title="scaling", title_justify="left"
        )
        for point in points:
            lat = point["latency_ms"]
            table.add_row(
                str(point["batch_size"]),
                str(point["concurrency"]),
                f"{lat['p50']:.1f}",
                f"{lat['p95']:.1f}",
                f"{lat['p99']:.1f}",
                f"{point['throughput']:.1f}",
            )
        out.print(table)


def _fairness(fairness: Mapping[str, Any], out: Console) -> None:
    groups: Sequence[Mapping[str, Any]] = fairness.get("groups") or ()
    if groups:
        metrics = fairness.get("group_metrics") or {}
        out.print(
            f"group rates count {metrics.get('positive')!r} as the favourable outcome "
            "(--positive names another); groups under "
            f"{metrics.get('min_group_size')} rows are not judged"
        )
        table = Table(
            "groups of",
            "parity difference",
            "parity ratio",
            "equalized odds",
            "four-fifths",
            title="fairness",
        )
        for gap in groups:
            four_fifths = gap["passes_four_fifths"]
            table.add_row(
                gap["feature"],
                _number(gap["demographic_parity_difference"]),
                _number(gap["demographic_parity_ratio"]),
                _number(gap["equalized_odds_difference"]),
                "n/a" if four_fifths is None else ("pass" if four_fifths else "FAIL"),
            )
        out.print(table)
    associations = fairness.get("associations") or ()
    if associations:
        table = Table("test", "method", "effect size", "p-value", title="association tests")
        for result in associations:
            table.add_row(
                result["test"], result["method"], _number(result["effect_size"]), _number(result["p_value"])
            )
        out.print(table)
    for family in fairness.get("counterfactual") or ():
        out.print(
            f"counterfactual {family['family']}: {family['flipped']} of {family['pairs']} outputs changed "
            f"({family['flip_rate']:.1%})"
        )


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _interval(estimate: Mapping[str, Any]) -> str:
    low, high = estimate.get("low"), estimate.get("high")
    return "" if low is None or high is None else f"[{low:.4g}, {high:.4g}]"


def _bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
