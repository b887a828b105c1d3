"""The one Jinja environment of the HTML reports: autoescaping on, undefined names an error.

Every page and the sections they share (``_evaluation.html.j2``) render through it, with the filters
that format numbers and draw the evaluation's charts.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jinja2

from modelsteward.checks.performance.metrics import METRICS
from modelsteward.data import FOLDER
from modelsteward.reports import _plots


@functools.cache
def environment() -> jinja2.Environment:
    """The environment, built once."""
    built = jinja2.Environment(
        loader=jinja2.FileSystemLoader(FOLDER / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    built.filters.update(
        as_json=_as_json,
        fixed=fixed,
        percent=percent,
        p_value=p_value,
        size=size,
        better=better,
        metrics_plot=_plots.metrics_plot,
        latency_plot=_plots.latency_plot,
        throughput_plot=_plots.throughput_plot,
        groups_plot=_plots.groups_plot,
        group_label=_plots.group_label,
        standings_plot=_plots.standings_plot,
    )
    return built


def fixed(value: float | None, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals and thousands separators; ``n/a`` for a missing value."""
    return "n/a" if value is None else f"{value:,.{digits}f}"


def percent(value: float | None) -> str:
    """A share as a percentage with one decimal (``0.953`` is ``95.3%``)."""
    return "n/a" if value is None else f"{value:.1%}"


def p_value(value: float | None) -> str:
    """A p-value to three decimals, or ``< 0.001`` below that."""
    if value is None:
        return "n/a"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def size(value: int | None) -> str:
    """Bytes in the largest binary unit that keeps the number above one (``1.5 MiB``)."""
    if value is None:
        return "n/a"
    if value < 1024:
        return f"{value:,} bytes"
    amount = value / 1024
    for unit in ("KiB", "MiB"):
        if amount < 1024:
            return f"{amount:,.1f} {unit}"
        amount /= 1024
    return f"{amount:,.1f} GiB"


def better(metric: str) -> str:
    """Which way ``metric`` is better: ``higher`` or ``lower``; empty for a metric the table lacks."""
    info = METRICS.get(metric)
    if info is None:
        return ""
    return "higher" if info.higher_is_better else "lower"


def _as_json(value: Any) -> str:
    """A data value the page has no layout for, as compact JSON (escaped by the template)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
