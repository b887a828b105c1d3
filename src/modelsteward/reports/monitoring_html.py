"""A served version's monitoring over a range, as one self-contained HTML page.

The page follows the evaluation pages: inline styles, no scripts, a Content-Security-Policy that forbids
fetching anything, and every value escaped by Jinja's autoescaping (column names and categories come from
the traffic). Charts are inline SVG: each KPI and each group of drift scores over the range's windows,
and each column's reference-vs-current distribution over the whole range.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from markupsafe import Markup

from modelsteward import __version__
from modelsteward.monitoring._drift import DriftReport
from modelsteward.monitoring._monitor import WindowReport
from modelsteward.monitoring._timeline import Timeline
from modelsteward.registry import Alert
from modelsteward.reports._svg import Series, grouped_bar_chart, time_chart
from modelsteward.reports._templates import environment

__all__ = ["render_monitoring_html"]

_TEMPLATE = "monitoring.html.j2"
_X_LABEL = "window start (UTC)"
_PER_CHART = 6
"""Columns per drift-score chart: more lines than this are hard to tell apart, dashes or not."""
_SCORES = {
    "wasserstein": "normalised Wasserstein distance",
    "jensen_shannon": "Jensen-Shannon distance",
    "domain_auc": "domain-classifier AUC",
    "nulls": "change in the share of nulls",
}
"""What each drift method's score is, for chart titles (see docs/drift.md)."""
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def render_monitoring_html(
    timeline: Timeline, alerts: Sequence[Alert], *, reference: str, generated: datetime
) -> str:
    """The page of ``timeline``: the range summarised, each metric over time, each column's drift and
    distributions, and ``alerts`` (those of the version). ``reference`` says in one line what drift is
    measured against, or why it is not."""
    windows = timeline.windows
    return (
        environment()
        .get_template(_TEMPLATE)
        .render(
            timeline=timeline,
            overall=timeline.overall,
            alerts=alerts,
            reference=reference,
            generated=_when(generated),
            kpi_charts=_kpi_charts(windows),
            score_charts=_score_charts(windows),
            distributions=_distributions(timeline.overall.drift),
            measured=_measured,
            span=_span,
            when=_when,
            tool_version=__version__,
        )
    )


def _kpi_charts(windows: Sequence[WindowReport]) -> list[Markup]:
    """Predictions, errors, latency, then accuracy and drift share where any window measured them."""
    times = [w.start for w in windows]

    def chart(title: str, y_label: str, *series: tuple[str, Sequence[float]]) -> Markup:
        lines = [Series(name, tuple(_measured(v) for v in values)) for name, values in series]
        return time_chart(title, times, lines, x_label=_X_LABEL, y_label=y_label)

    kpis = [w.kpis for w in windows]
    charts = [
        chart("Predictions per window", "predictions", ("predictions", [x.count for x in kpis])),
        chart("Error rate", "% of predictions that failed", ("errors", [x.error_rate * 100 for x in kpis])),
        chart(
            "Latency",
            "milliseconds",
            ("p50", [x.latency_p50_ms for x in kpis]),
            ("p95", [x.latency_p95_ms for x in kpis]),
            ("p99", [x.latency_p99_ms for x in kpis]),
        ),
    ]
    if any(x.labelled for x in kpis):
        charts.append(
            chart(
                "Accuracy and F1 on labelled predictions",
                "score (0 to 1)",
                ("accuracy", [x.accuracy for x in kpis]),
                ("macro F1", [x.f1 for x in kpis]),
            )
        )
    if any(w.drift is not None for w in windows):
        shares = [math.nan if w.drift is None else w.drift.share for w in windows]
        charts.append(chart("Share of columns drifted", "share of columns (0 to 1)", ("drifted", shares)))
    return charts


def _score_charts(windows: Sequence[WindowReport]) -> list[Markup]:
    """Each column's drift score per window, a chart per method and threshold (scores of different
    methods are on different scales) and per ``_PER_CHART`` columns, with the threshold dashed.

    A window where a column was measured by another method (``nulls``: its values vanished) leaves a gap.
    """
    groups: dict[tuple[str, float], dict[str, list[float | None]]] = {}
    for index, window in enumerate(windows):
        for column in () if window.drift is None else window.drift.columns:
            scores = groups.setdefault((column.method, column.threshold), {})
            scores.setdefault(column.column, [None] * len(windows))[index] = column.score
    times = [w.start for w in windows]
    charts = []
    for (method, threshold), scores in groups.items():
        names = list(scores)
        for first in range(0, len(names), _PER_CHART):
            part = names[first : first + _PER_CHART]
            counted = (
                f", columns {first + 1} to {first + len(part)} of {len(names)}"
                if len(names) > _PER_CHART
                else ""
            )
            meaning = _SCORES.get(method, method)
            charts.append(
                time_chart(
                    f"Drift score per window: {meaning}{counted}",
                    times,
                    [Series(name, tuple(scores[name])) for name in part],
                    x_label=_X_LABEL,
                    y_label=meaning,
                    threshold=threshold,
                )
            )
    return charts


def _distributions(drift: DriftReport | None) -> list[tuple[str, Markup]]:
    """Each column's reference and current shares per bin or category over the range, by column name;
    text and embedding columns have none."""
    if drift is None:
        return []
    return [
        (
            column.column,
            grouped_bar_chart(
                f"{column.column}: reference vs current",
                column.distribution.labels,
                [
                    Series("reference", column.distribution.reference),
                    Series("current", column.distribution.current),
                ],
                axis="share of non-null values",
            ),
        )
        for column in drift.columns
        if column.distribution is not None
    ]


def _measured(value: float) -> float | None:
    """``value``, or None where the window had nothing to measure it on (NaN)."""
    return None if math.isnan(value) else value


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(length: timedelta) -> str:
    """``length`` as alert rules write durations (``1h30m``), to the second."""
    rest, parts = int(length.total_seconds()), []
    for unit, seconds in _UNITS:
        count, rest = divmod(rest, seconds)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or str(length)
