"""A range of a served version's events cut into tumbling windows: KPIs and drift per window and overall.

What ``steward monitor report`` draws. Pure: the events and the reference arrive as tables the caller
read; each window is measured by :func:`~modelsteward.monitoring._monitor.window_report`, as the monitor
measures the window ending now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np
import pyarrow as pa

from modelsteward.monitoring._drift import DriftSettings
from modelsteward.monitoring._monitor import WindowReport, window_report

MAX_WINDOWS = 500
"""Windows one timeline may hold: each compares every column with the reference (a fraction of a second
per column), and a chart of more points than this has more points than pixels to spare."""
_TIME = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True, slots=True)
class Timeline:
    """KPIs and drift of one model version over a range, window by window and as a whole."""

    model: str
    version: int
    start: datetime
    """Inclusive."""
    end: datetime
    """Exclusive."""
    window: timedelta
    """The windows' length; the last window ends at ``end``, shorter where the range is not a multiple."""
    windows: tuple[WindowReport, ...]
    """The tumbling windows from ``start`` to ``end``, in time order. A window without events has a
    count of 0 and no drift (its ``drift_note`` says so)."""
    overall: WindowReport
    """The whole range against the reference: the distributions of its drift are what a report plots."""


def timeline(
    events: pa.Table,
    reference: pa.Table | None,
    *,
    model: str,
    version: int,
    window: timedelta,
    start: datetime,
    end: datetime,
    settings: DriftSettings,
) -> Timeline:
    """KPIs and, given a reference, drift of ``events`` (``model@version``'s, with the event store's
    columns) per window of ``window`` from ``start`` to ``end``, and over the whole range.

    Events outside the range are left out. Raises ValueError, naming the problem, for times without a
    zone, a range that ends before it starts, a window of no length, more than ``MAX_WINDOWS`` windows,
    or an event without a time.
    """
    for moment in (start, end):
        if moment.utcoffset() is None:
            raise ValueError(f"times must carry a time zone (got {moment.isoformat()})")
    if window <= timedelta(0):
        raise ValueError(f"the window must be longer than 0 (got {window})")
    if start >= end:
        raise ValueError(f"the range must end after it starts ({start.isoformat()} .. {end.isoformat()})")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    whole, part = divmod(end - start, window)
    count = whole + bool(part)
    if count > MAX_WINDOWS:
        raise ValueError(
            f"a range of {end - start} in windows of {window} is {count:,} windows, more than the"
            f" {MAX_WINDOWS} a report holds: choose a longer window or a shorter range"
        )
    if events["at"].null_count:
        raise ValueError("every event needs a time: the at column has nulls")
    times = events["at"].cast(_TIME).to_numpy()
    if np.any(times[1:] < times[:-1]):  # the store reads in time order; other tables may not be
        order = np.argsort(times, kind="stable")
        events, times = events.take(order), times[order]
    bounds = [*(start + window * index for index in range(count)), end]
    # Each window's events are one slice of the sorted table: found by bisection, not by filtering.
    cuts = np.searchsorted(times, pa.array(bounds, _TIME).to_numpy()).tolist()

    def measure(low: int, high: int, begin: datetime, finish: datetime) -> WindowReport:
        return window_report(
            events.slice(low, high - low),
            reference,
            model=model,
            version=version,
            start=begin,
            end=finish,
            settings=settings,
        )

    windows = tuple(
        measure(low, high, begin, finish)
        for (low, high), (begin, finish) in zip(pairwise(cuts), pairwise(bounds), strict=True)
    )
    return Timeline(model, version, start, end, window, windows, measure(cuts[0], cuts[-1], start, end))
