"""The SVG charts: accessible, escaped, with round ticks and gaps where a value is missing."""

from __future__ import annotations

import re

from modelsteward.reports._svg import (
    PALETTE,
    Interval,
    Series,
    grouped_bar_chart,
    interval_chart,
    line_chart,
)
from tests.reports.test_admission_html import _Page

_EVIL = 'a"<b>&'


def _ticks(chart: str) -> list[str]:
    """The labels under the x axis, in order (text anchored in the middle, not the title)."""
    return re.findall(r'<text [^>]*text-anchor="middle" [^>]*font-size="12"[^>]*>([^<]*)</text>', chart)


def test_an_interval_chart_draws_whiskers_dots_and_round_ticks() -> None:
    chart = interval_chart(
        "Scores",
        [Interval("first", 0.9, 0.85, 0.95, emphasis=True), Interval("second", 0.7, 0.62, 0.78)],
        axis="accuracy",
    )

    assert _Page(chart).problems == []
    assert chart.count("<circle") == 2
    assert chart.count("<line") >= 6  # a whisker and two caps per row
    assert _ticks(chart) == ["0.6", "0.7", "0.8", "0.9", "1", "accuracy"]
    assert f'fill="{PALETTE[1]}"' in chart  # the emphasised row
    assert 'aria-label="Scores. first 0.9 [0.85, 0.95]; second 0.7 [0.62, 0.78]"' in chart


def test_a_missing_value_says_so_instead_of_drawing_a_dot() -> None:
    chart = interval_chart("Scores", [Interval("auc", None)], axis="score")

    assert "<circle" not in chart
    assert ">not measured</text>" in chart
    assert "<title>auc: not measured</title>" in chart


def test_a_line_chart_labels_each_x_value_and_skips_missing_points() -> None:
    chart = line_chart(
        "Latency",
        [1, 8, 32],
        [Series("p50", (1.0, 2.5, 6.0)), Series("p95", (2.0, None, 9.0))],
        x_label="batch size",
        y_label="ms",
    )

    assert _Page(chart).problems == []
    assert chart.count("<polyline") == 2
    assert chart.count("<circle") == 5
    assert 'stroke-dasharray="6 3"' in chart  # the second series is dashed as well as coloured
    assert "<title>p95: 9 at batch size 32</title>" in chart
    assert [label for label in _ticks(chart) if label in {"1", "8", "32"}] == ["1", "8", "32"]
    assert 'aria-label="Latency. ms by batch size. p50: 1: 1, 8: 2.5, 32: 6; p95: 1: 2, 32: 9"' in chart


def test_a_grouped_bar_chart_has_a_bar_per_group_and_series() -> None:
    chart = grouped_bar_chart(
        "Rates",
        ["women", "men"],
        [Series("selection", (0.25, 0.5)), Series("tpr", (None, 15000.0))],
        axis="rate",
    )

    assert _Page(chart).problems == []
    assert chart.count("<rect") == 3
    assert "<title>women, tpr: not measured</title>" in chart
    assert ">15,000</text>" in chart
    assert 'aria-label="Rates. women: selection 0.25, tpr n/a; men: selection 0.5, tpr 15,000"' in chart


def test_every_text_is_escaped_and_long_labels_are_cut_with_the_whole_in_a_tooltip() -> None:
    long_label = "x" * 40 + _EVIL
    chart = interval_chart(_EVIL, [Interval(long_label, 0.5, 0.4, 0.6)], axis=_EVIL)

    assert _EVIL not in chart
    assert "a&#34;&lt;b&gt;&amp;" in chart
    assert f">{'x' * 31}…</text>" in chart
    assert f"<title>{'x' * 40}a&#34;&lt;b&gt;&amp;</title>" in chart
    assert chart.startswith(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="a&#34;'
    )
