"""Charts as inline SVG: pure functions from numbers to markup, for reports that load nothing.

Every chart has a title, labelled axes, a ``<title>`` tooltip on each mark, ``role="img"`` with an
``aria-label`` for screen readers, and the Okabe-Ito palette, which stays distinct under every common
colour-vision deficiency. Series are also told apart by line dash, so a chart survives greyscale print.
All text is escaped: labels may come from the model or the data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from markupsafe import Markup, escape

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000")
"""Okabe and Ito's colour-blind-safe palette (yellow left out: too faint on white)."""
_DASHES = ("", "6 3", "2 3", "8 3 2 3")
_WIDTH = 640
_INK = "#1f2328"
_AXIS = "#57606a"
_GRID = "#d0d7de"
_LABEL_CHARS = 32
"""Row labels longer than this are cut with an ellipsis; the tooltip holds the whole label."""
_TIME_TICKS = 6
"""Times labelled under a time chart's axis: six of the widest shape (``03-01 12:00``) fit its width."""


@dataclass(frozen=True, slots=True)
class Interval:
    """One row of an interval chart: a value and its confidence interval."""

    label: str
    value: float | None
    """None draws no dot and says "not measured"."""
    low: float | None = None
    high: float | None = None
    emphasis: bool = False
    """Drawn in the second colour, for the row the reader should find first (the best candidate)."""


@dataclass(frozen=True, slots=True)
class Series:
    """One named line of a line chart, or one bar colour of a grouped bar chart."""

    name: str
    values: tuple[float | None, ...]
    """One value per x position (line chart) or per category (bar chart); None leaves a gap."""


def interval_chart(title: str, rows: Sequence[Interval], *, axis: str) -> Markup:
    """A dot per row with whiskers from ``low`` to ``high``: scores with their confidence intervals."""
    left = _label_width(row.label for row in rows)
    right = _WIDTH - 70
    top, step = 40, 26
    bottom = top + step * len(rows)
    numbers = [n for row in rows for n in (row.value, row.low, row.high) if n is not None]
    scale = _Scale(_ticks(numbers), left, right)
    parts = [_x_axis(scale, top, bottom, axis)]
    for index, row in enumerate(rows):
        y = top + step * index + step / 2
        colour = PALETTE[1] if row.emphasis else PALETTE[0]
        tip = f"{row.label}: {_interval_text(row.value, row.low, row.high)}"
        parts.append(_row_label(row.label, left, y))
        mark = [f"<title>{escape(tip)}</title>"]
        if row.low is not None and row.high is not None:
            x1, x2 = scale(row.low), scale(row.high)
            mark.append(_line(x1, y, x2, y, colour, 2))
            mark += [_line(x, y - 5, x, y + 5, colour, 2) for x in (x1, x2)]
        if row.value is None:
            mark.append(_text(left + 6, y + 4, "not measured", fill=_AXIS))
        else:
            mark.append(
                f'<circle cx="{scale(row.value):.1f}" cy="{y:.1f}" r="5" fill="{colour}" stroke="#fff"/>'
            )
            mark.append(_text(right + 8, y + 4, _number(row.value)))
        parts.append(f"<g>{''.join(mark)}</g>")
    summary = "; ".join(f"{row.label} {_interval_text(row.value, row.low, row.high)}" for row in rows)
    return _svg(title, summary, bottom + 44, parts)


def line_chart(
    title: str, x_values: Sequence[float], series: Sequence[Series], *, x_label: str, y_label: str
) -> Markup:
    """Lines over ``x_values``, which are spaced evenly and labelled by value (batch sizes 1, 8, 32)."""
    span = max(len(x_values) - 1, 1)
    return _lines(
        title,
        [index / span for index in range(len(x_values))],
        [_number(value) for value in x_values],
        range(len(x_values)),
        series,
        x_label=x_label,
        y_label=y_label,
    )


def time_chart(
    title: str,
    times: Sequence[datetime],
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    threshold: float | None = None,
) -> Markup:
    """Lines over ``times``, placed by time and labelled in UTC (KPIs per window).

    At most ``_TIME_TICKS`` times are labelled under the axis, as a label per point would overlap; every
    point's tooltip names its time. ``threshold`` draws a dashed horizontal line at that value.
    """
    span = times[-1] - times[0] if times else timedelta(0)
    shape = _time_format(times)
    every = max(math.ceil(len(times) / _TIME_TICKS), 1)
    return _lines(
        title,
        [(moment - times[0]) / span if span else 0.0 for moment in times],
        [moment.astimezone(UTC).strftime(shape) for moment in times],
        range(0, len(times), every),
        series,
        x_label=x_label,
        y_label=y_label,
        threshold=threshold,
    )


def _lines(
    title: str,
    positions: Sequence[float],
    labels: Sequence[str],
    ticks: Sequence[int],
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    threshold: float | None = None,
) -> Markup:
    """Lines over x ``positions`` (0 to 1) named by ``labels``, of which those at indices ``ticks`` are
    written under the axis."""
    left, right, top, bottom = 76, _WIDTH - 20, 40 + 18 * math.ceil(len(series) / 3), 260
    numbers = [v for s in series for v in s.values if v is not None]
    limits = [] if threshold is None else [threshold]
    y_scale = _Scale(_ticks([0.0, *numbers, *limits]), bottom, top)
    xs = [left + 20 + (right - left - 40) * position for position in positions]
    parts = [_legend(series, left, 34)]
    for tick in y_scale.ticks:
        y = y_scale(tick)
        parts.append(_line(left, y, right, y, _GRID, 1))
        parts.append(_text(left - 6, y + 4, _number(tick), anchor="end"))
    for index in ticks:
        parts.append(_line(xs[index], bottom, xs[index], bottom + 4, _AXIS, 1))
        parts.append(_text(xs[index], bottom + 18, labels[index], anchor="middle"))
    parts.append(_line(left, bottom, right, bottom, _AXIS, 1))
    parts.append(_text((left + right) / 2, bottom + 38, x_label, anchor="middle"))
    parts.append(
        _text(
            16, (top + bottom) / 2, y_label, anchor="middle", transform=f"rotate(-90 16 {(top + bottom) / 2})"
        )
    )
    if threshold is not None:
        y = y_scale(threshold)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{_INK}" stroke-width="1.5" '
            f'stroke-dasharray="4 4"/>'
        )
        parts.append(_text(right - 4, y - 5, f"threshold {_number(threshold)}", anchor="end", size=10))
    for index, line in enumerate(series):
        colour, dash = PALETTE[index % len(PALETTE)], _DASHES[index % len(_DASHES)]
        points = [
            (x, y_scale(v), label, v)
            for x, label, v in zip(xs, labels, line.values, strict=True)
            if v is not None
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
        dashing = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dashing}/>')
        for x, y, label, v in points:
            tip = f"{line.name}: {_number(v)} at {x_label} {label}"
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                f"<title>{escape(tip)}</title></circle>"
            )
    summary = "; ".join(
        f"{s.name}: "
        + ", ".join(
            f"{label}: {_number(v)}" for label, v in zip(labels, s.values, strict=True) if v is not None
        )
        for s in series
    )
    limit = "" if threshold is None else f"; threshold {_number(threshold)}"
    return _svg(title, f"{y_label} by {x_label}. {summary}{limit}", bottom + 50, parts)


def grouped_bar_chart(
    title: str, categories: Sequence[str], series: Sequence[Series], *, axis: str
) -> Markup:
    """Horizontal bars, one row per category and one bar per series in it (rates per group)."""
    left = _label_width(categories)
    right = _WIDTH - 70
    bar, gap = 12, 12
    top = 40 + 18 * math.ceil(len(series) / 3)
    block = bar * len(series) + gap
    bottom = top + block * len(categories)
    numbers = [v for s in series for v in s.values if v is not None]
    scale = _Scale(_ticks([0.0, *numbers]), left, right)
    # The legend starts at the margin, not after the row labels: three entries must fit the width.
    parts = [_legend(series, 16, 34), _x_axis(scale, top, bottom, axis)]
    for row, category in enumerate(categories):
        y0 = top + block * row + gap / 2
        parts.append(_row_label(category, left, y0 + bar * len(series) / 2))
        for index, line in enumerate(series):
            value = line.values[row]
            y = y0 + bar * index
            tip = f"{category}, {line.name}: {_optional(value, 'not measured')}"
            if value is None:
                parts.append(_text(left + 4, y + bar - 2, "n/a", fill=_AXIS, size=10, tip=tip))
                continue
            width = max(scale(value) - left, 0.5)
            colour = PALETTE[index % len(PALETTE)]
            parts.append(
                f'<rect x="{left:.1f}" y="{y:.1f}" width="{width:.1f}" height="{bar - 1}" fill="{colour}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            parts.append(_text(left + width + 4, y + bar - 2, _number(value), size=10))
    summary = "; ".join(
        f"{category}: " + ", ".join(f"{s.name} {_optional(s.values[row], 'n/a')}" for s in series)
        for row, category in enumerate(categories)
    )
    return _svg(title, summary, bottom + 44, parts)


@dataclass(frozen=True, slots=True)
class _Scale:
    """A linear map from the data range of ``ticks`` onto ``start``..``end`` pixels."""

    ticks: tuple[float, ...]
    start: float
    end: float

    def __call__(self, value: float) -> float:
        low, high = self.ticks[0], self.ticks[-1]
        return self.start + (value - low) / (high - low) * (self.end - self.start)


def _ticks(numbers: Sequence[float], count: int = 5) -> tuple[float, ...]:
    """Round tick values covering ``numbers``: steps of 1, 2 or 5 times a power of ten."""
    finite = [n for n in numbers if math.isfinite(n)] or [0.0, 1.0]
    low, high = min(finite), max(finite)
    if high == low:  # one value: a tenth of it either side
        low, high = (low - abs(low) / 10, high + abs(high) / 10) if low else (0.0, 1.0)
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    return tuple(first + step * i for i in range(round((last - first) / step) + 1))


def _svg(title: str, summary: str, height: float, parts: Sequence[str]) -> Markup:
    label = f"{title}. {summary}" if summary else title
    # Safe: every text in ``parts`` was escaped where it was made, and the rest is our own markup.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {_WIDTH} {height:.0f}" width="{_WIDTH}" height="{height:.0f}">'
        f"<title>{escape(title)}</title>"
        f"{_text(_WIDTH / 2, 20, title, anchor='middle', weight='600', size=14)}"
        f"{''.join(parts)}</svg>"
    )


def _x_axis(scale: _Scale, top: float, bottom: float, label: str) -> str:
    parts = []
    for tick in scale.ticks:
        x = scale(tick)
        parts.append(_line(x, top, x, bottom, _GRID, 1))
        parts.append(_text(x, bottom + 16, _number(tick), anchor="middle"))
    parts.append(_line(scale.start, bottom, scale.end, bottom, _AXIS, 1))
    parts.append(_text((scale.start + scale.end) / 2, bottom + 36, label, anchor="middle"))
    return "".join(parts)


def _legend(series: Sequence[Series], left: float, y: float) -> str:
    parts = []
    for index, line in enumerate(series):
        x = left + 180 * (index % 3)
        row_y = y + 18 * (index // 3)
        colour, dash = PALETTE[index % len(PALETTE)], _DASHES[index % len(_DASHES)]
        dashing = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{x:.1f}" y1="{row_y - 4:.1f}" x2="{x + 22:.1f}" y2="{row_y - 4:.1f}" '
            f'stroke="{colour}" stroke-width="4"{dashing}/>'
        )
        parts.append(_text(x + 28, row_y, line.name))
    return "".join(parts)


def _row_label(label: str, left: float, y: float) -> str:
    shown = label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"
    return _text(left - 8, y + 4, shown, anchor="end", tip=label)


def _label_width(labels: Iterable[str]) -> float:
    """Room on the left for row labels: about 7 pixels per character, within sensible bounds."""
    longest = max((min(len(label), _LABEL_CHARS) for label in labels), default=0)
    return float(min(max(7 * longest + 16, 80), 260))


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: float) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{colour}" stroke-width="{width}"/>'
    )


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    fill: str = _INK,
    size: int = 12,
    weight: str = "400",
    transform: str | None = None,
    tip: str | None = None,
) -> str:
    turned = f' transform="{transform}"' if transform else ""
    title = f"<title>{escape(tip)}</title>" if tip else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-family="system-ui, sans-serif" '
        f'font-size="{size}" font-weight="{weight}" fill="{fill}"{turned}>'
        f"{title}{escape(content)}</text>"
    )


def _time_format(times: Sequence[datetime]) -> str:
    """The shortest ``strftime`` shape that tells the times apart: dates, minutes or seconds."""
    step = min((later - earlier for earlier, later in pairwise(times)), default=timedelta(days=1))
    if step >= timedelta(days=1):
        return "%Y-%m-%d"
    return "%m-%d %H:%M" if step >= timedelta(minutes=1) else "%H:%M:%S"


def _number(value: float) -> str:
    """Three significant digits below a thousand, whole numbers with separators from there on."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _optional(value: float | None, missing: str) -> str:
    return missing if value is None else _number(value)


def _interval_text(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "not measured"
    if low is None or high is None:
        return _number(value)
    return f"{_number(value)} [{_number(low)}, {_number(high)}]"
