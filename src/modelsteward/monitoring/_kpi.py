"""KPIs per window: how many predictions, how fast, how many failed, and how many were right.

From raw events (:func:`kpis`, exact, tumbling or sliding windows) or from stored summaries
(:func:`summary_kpis`, latency percentiles within the histogram's 1 % and no accuracy, as labels
arrive after summaries are written).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelsteward.monitoring._event import OUTPUT
from modelsteward.monitoring._summary import Window

PREDICTION = f"{OUTPUT}label"
"""The output column compared with the ground truth ``label``."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class WindowKpis:
    """The KPIs of one window; NaN where the window has nothing to measure them on."""

    start: datetime
    """Inclusive, in UTC."""
    end: datetime
    """Exclusive."""
    count: int
    """Predictions in the window."""
    throughput: float
    """Predictions per second over the whole window."""
    error_rate: float
    """Share of predictions that failed, 0 to 1."""
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    """Latency percentiles in milliseconds, over the predictions that have a latency."""
    labelled: int = 0
    """Predictions with both a label and a predicted ``output.label``: what accuracy is measured on."""
    accuracy: float = math.nan
    """Share of labelled predictions equal to their label, 0 to 1."""
    f1: float = math.nan
    """Macro-averaged F1 over the classes among labels and predictions, 0 to 1."""


def kpis(
    events: pa.Table,
    *,
    window: timedelta,
    start: datetime | None = None,
    end: datetime | None = None,
    step: timedelta | None = None,
) -> list[WindowKpis]:
    """The KPIs of ``events`` (the event store's columns, ``at`` required) per window of ``window``.

    Windows begin at ``start`` (default: the first event's time rounded down to a multiple of ``window``
    since the epoch) and every ``step`` after (default ``window``: tumbling; shorter: sliding), up to
    ``end`` (default: past the last event). Empty windows are listed with count 0. Accuracy and F1 come
    from the ``label`` and ``output.label`` columns where the table has both.
    """
    if window <= timedelta(0) or (step is not None and step <= timedelta(0)):
        raise ValueError("windows and steps must be longer than 0")
    step = step or window
    for moment in (start, end):
        if moment is not None and moment.utcoffset() is None:
            raise ValueError(f"times must carry a time zone (got {moment.isoformat()})")
    times = _micros(events["at"])
    order = np.argsort(times, kind="stable")
    times = times[order]
    if times.size == 0 and (start is None or end is None):
        return []
    window_us, step_us = window // _US, step // _US
    first = (int(times[0]) // window_us * window_us) if start is None else (start - _EPOCH) // _US
    last = (int(times[-1]) + 1) if end is None else (end - _EPOCH) // _US
    latency = _latencies(events, order)
    failed = (
        np.asarray(pc.is_valid(events["error"]).to_numpy(zero_copy_only=False))[order]
        if "error" in events.column_names
        else np.zeros(times.size, dtype=bool)
    )
    truth, predicted = _labels(events, order)
    result = []
    for begin in range(first, last, step_us):
        low, high = np.searchsorted(times, [begin, begin + window_us])
        lat = latency[low:high]
        lat = lat[~np.isnan(lat)]
        p50, p95, p99 = np.quantile(lat, [0.5, 0.95, 0.99]).tolist() if lat.size else [math.nan] * 3
        count = int(high - low)
        labelled, accuracy, f1 = _accuracy(truth[low:high], predicted[low:high])
        result.append(
            WindowKpis(
                start=_EPOCH + begin * _US,
                end=_EPOCH + (begin + window_us) * _US,
                count=count,
                throughput=count / window.total_seconds(),
                error_rate=float(failed[low:high].mean()) if count else math.nan,
                latency_p50_ms=float(p50),
                latency_p95_ms=float(p95),
                latency_p99_ms=float(p99),
                labelled=labelled,
                accuracy=accuracy,
                f1=f1,
            )
        )
    return result


def summary_kpis(window: Window) -> WindowKpis:
    """The KPIs of a stored window summary (one hour, or several merged): no accuracy or F1."""
    summary = window.summary
    seconds = (window.end - window.start).total_seconds()
    return WindowKpis(
        start=window.start,
        end=window.end,
        count=summary.count,
        throughput=summary.count / seconds,
        error_rate=summary.errors / summary.count if summary.count else math.nan,
        latency_p50_ms=summary.latency.quantile(0.5),
        latency_p95_ms=summary.latency.quantile(0.95),
        latency_p99_ms=summary.latency.quantile(0.99),
    )


def _micros(times: pa.ChunkedArray) -> np.ndarray:
    if times.null_count:
        raise ValueError("every event needs a time: the at column has nulls")
    as_utc = times.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return np.asarray(as_utc.to_numpy(zero_copy_only=False), dtype=np.int64)


def _latencies(events: pa.Table, order: np.ndarray) -> np.ndarray:
    """Latency per event in time order, NaN where none was measured."""
    if "latency_ms" not in events.column_names:
        return np.full(len(order), np.nan)
    values = events["latency_ms"].cast(pa.float64()).fill_null(math.nan)
    latencies: np.ndarray = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    ordered: np.ndarray = latencies[order]
    return ordered


def _labels(events: pa.Table, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label and prediction per event as text (None where missing), in time order."""
    if "label" not in events.column_names or PREDICTION not in events.column_names:
        empty = np.full(len(order), None, dtype=object)
        return empty, empty
    # Both as Arrow casts them to text, so 1 and "1" (or true and "true") compare equal.
    truth = np.asarray(events["label"].cast(pa.string()).to_pylist(), dtype=object)[order]
    predicted = np.asarray(events[PREDICTION].cast(pa.string()).to_pylist(), dtype=object)[order]
    return truth, predicted


def _accuracy(truth: np.ndarray, predicted: np.ndarray) -> tuple[int, float, float]:
    """Labelled count, accuracy and macro F1 of the pairs where both are present."""
    both = np.array([t is not None and p is not None for t, p in zip(truth, predicted, strict=True)], bool)
    truth, predicted = truth[both], predicted[both]
    if truth.size == 0:
        return 0, math.nan, math.nan
    right = truth == predicted
    scores = []
    for label in set(truth.tolist()) | set(predicted.tolist()):
        hits = int(np.sum(right & (truth == label)))
        # F1 = 2 TP / (2 TP + FP + FN); the label occurs, so the denominator is positive.
        scores.append(2 * hits / (np.sum(truth == label) + np.sum(predicted == label)))
    return int(truth.size), float(right.mean()), float(np.mean(scores))
