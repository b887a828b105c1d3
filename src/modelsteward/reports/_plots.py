"""The evaluation's JSON drawn as charts: metric intervals, the scaling curve, group rates, a leaderboard.

Each function takes one piece of the JSON that :meth:`Evaluation.to_json` or :meth:`Leaderboard.to_json`
writes (the registry stores that, not live objects) and gives an SVG chart, or None when there is
nothing worth drawing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from modelsteward.reports._svg import Interval, Series, grouped_bar_chart, interval_chart, line_chart

_RATES = (
    ("selection_rate", "selection rate"),
    ("true_positive_rate", "true positive rate"),
    ("false_positive_rate", "false positive rate"),
)


def metrics_plot(metrics: Mapping[str, Mapping[str, Any]]) -> Markup | None:
    """The metrics measured as shares (between 0 and 1, interval included), with their intervals.

    Errors in the data's own units (MAE, RMSE) are left to the table: on one axis with shares they
    would flatten every other row.
    """
    rows = [
        Interval(name, e["value"], e["low"], e["high"])
        for name, e in metrics.items()
        if _share(e["value"]) and _share(e["low"]) and _share(e["high"])
    ]
    if not rows:
        return None
    level = next(iter(metrics.values()))["level"]
    return interval_chart(f"Metrics with {level:.0%} intervals", rows, axis="score")


def latency_plot(efficiency: Mapping[str, Any]) -> Markup | None:
    """Latency p50 and p95 per batch, against batch size, for one copy of the model (the fewest timed)."""
    scaling = efficiency["scaling"]
    if not scaling:
        return None
    fewest = min(point["concurrency"] for point in scaling)
    points = sorted((p for p in scaling if p["concurrency"] == fewest), key=lambda p: p["batch_size"])
    if len(points) < 2:
        return None
    series = [Series(q, tuple(p["latency_ms"][q] for p in points)) for q in ("p50", "p95")]
    copies = "one copy" if fewest == 1 else f"{fewest} copies"
    return line_chart(
        f"Latency per batch ({copies})",
        [p["batch_size"] for p in points],
        series,
        x_label="batch size",
        y_label="milliseconds per batch",
    )


def throughput_plot(efficiency: Mapping[str, Any]) -> Markup | None:
    """Throughput against concurrency, a line per batch size; against batch size when one copy ran."""
    scaling = efficiency["scaling"]
    sizes = sorted({point["batch_size"] for point in scaling})
    copies = sorted({point["concurrency"] for point in scaling})
    rate = {(p["batch_size"], p["concurrency"]): p["throughput"] for p in scaling}
    if len(copies) > 1:
        series = [Series(f"batch {s}", tuple(rate.get((s, c)) for c in copies)) for s in sizes]
        return line_chart(
            "Throughput by concurrency", copies, series, x_label="copies at once", y_label="rows per second"
        )
    if len(sizes) < 2:
        return None
    series = [Series(f"{c} at once", tuple(rate.get((s, c)) for s in sizes)) for c in copies]
    return line_chart(
        "Throughput by batch size", sizes, series, x_label="batch size", y_label="rows per second"
    )


def groups_plot(disparity: Mapping[str, Any]) -> Markup | None:
    """Selection rate, true and false positive rate of each group of one feature (or intersection)."""
    groups = disparity["groups"]
    if not groups:
        return None
    labels = [group_label(g) + (" (too small)" if g["too_small"] else "") for g in groups]
    series = [Series(name, tuple(g[key] for g in groups)) for key, name in _RATES]
    title = "Rates by " + " × ".join(disparity["features"])
    return grouped_bar_chart(title, labels, series, axis="rate")


def standings_plot(leaderboard: Mapping[str, Any]) -> Markup:
    """Each candidate's score with its interval, in rank order, the best emphasised."""
    rows = [
        Interval(s["candidate"], s["score"]["value"], s["score"]["low"], s["score"]["high"], s["rank"] == 1)
        for s in leaderboard["standings"]
    ]
    return interval_chart(f"{leaderboard['metric']} by candidate", rows, axis=leaderboard["metric"])


def group_label(group: Mapping[str, Any]) -> str:
    """A group's values joined, ``Female × Black``, in the order of its features."""
    return " × ".join(str(value) for value in group["group"].values())


def _share(value: float | None) -> bool:
    return value is not None and 0.0 <= value <= 1.0
