"""KPIs per window, from raw events and from the store's summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import accuracy_score, f1_score

from modelsteward.monitoring import Event
from modelsteward.monitoring._kpi import kpis, summary_kpis
from modelsteward.monitoring._store import EventStore
from modelsteward.monitoring._summary import GAMMA

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TIME = pa.timestamp("us", tz="UTC")


def _table(seconds: list[float], **columns: Sequence[object]) -> pa.Table:
    return pa.table({"at": pa.array([T0 + timedelta(seconds=s) for s in seconds], TIME), **columns})


def test_tumbling_windows_count_time_errors_and_latency() -> None:
    events = _table(
        [0, 10, 20, 30, 70, 80],
        latency_ms=[1.0, 2.0, 3.0, 4.0, 10.0, None],
        error=[None, None, None, "boom", None, "boom"],
    )
    first, second = kpis(events, window=timedelta(minutes=1))
    assert (first.start, first.end, second.end) == (T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    assert (first.count, first.throughput, first.error_rate) == (4, 4 / 60, 0.25)
    assert first.latency_p50_ms == pytest.approx(2.5)
    assert first.latency_p99_ms == pytest.approx(3.97)
    assert (second.count, second.error_rate, second.latency_p95_ms) == (2, 0.5, 10.0)
    assert first.labelled == 0 and math.isnan(first.accuracy) and math.isnan(first.f1)


def test_sliding_windows_overlap_and_empty_windows_are_listed() -> None:
    events = _table([0, 30, 61, 200])
    sliding = kpis(
        events, window=timedelta(minutes=1), step=timedelta(seconds=30), end=T0 + timedelta(minutes=4)
    )
    assert [k.count for k in sliding] == [2, 2, 1, 0, 0, 1, 1, 0]  # windows begin every 30 s before end
    empty = sliding[3]
    assert empty.throughput == 0.0 and math.isnan(empty.error_rate) and math.isnan(empty.latency_p50_ms)
    later = kpis(events, window=timedelta(minutes=1), start=T0 + timedelta(minutes=1))
    assert [(k.start - T0, k.count) for k in later] == [
        (timedelta(minutes=1), 1),
        (timedelta(minutes=2), 0),
        (timedelta(minutes=3), 1),
    ]


def test_accuracy_and_macro_f1_where_labels_exist() -> None:
    rng = np.random.default_rng(3)
    truth = rng.choice(["cat", "dog", "fox"], size=300).tolist()
    predicted = [t if rng.random() < 0.7 else "dog" for t in truth]
    labels: list[object] = [*truth[:250], *[None] * 50]
    events = _table([float(i) for i in range(300)], label=labels, **{"output.label": predicted})
    (window,) = kpis(events, window=timedelta(hours=1))
    assert window.labelled == 250
    assert window.accuracy == pytest.approx(accuracy_score(truth[:250], predicted[:250]))
    assert window.f1 == pytest.approx(f1_score(truth[:250], predicted[:250], average="macro"))


def test_numeric_predictions_compare_with_text_labels() -> None:
    events = _table([0, 1, 2], label=["1", "0", "1"], **{"output.label": [1, 0, 0]})
    (window,) = kpis(events, window=timedelta(minutes=1))
    assert window.accuracy == pytest.approx(2 / 3)


def test_bad_windows_are_refused() -> None:
    events = _table([0])
    with pytest.raises(ValueError, match="longer than 0"):
        kpis(events, window=timedelta(0))
    with pytest.raises(ValueError, match="time zone"):
        kpis(events, window=timedelta(minutes=1), start=datetime(2025, 3, 1))
    assert kpis(_table([]), window=timedelta(minutes=1)) == []


def test_kpis_from_summaries_agree_with_kpis_from_events(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    store = EventStore(tmp_path)
    latencies = rng.lognormal(2.0, 0.8, size=3000)
    store.append(
        [
            Event(
                f"r{i}",
                "m",
                1,
                T0 + timedelta(seconds=2.4 * i),
                latency_ms=float(latency),
                error="x" if i % 10 == 0 else None,
            )
            for i, latency in enumerate(latencies)
        ]
    )
    from_events = kpis(store.read("m"), window=timedelta(hours=1))
    from_summaries = [summary_kpis(window) for window in store.windows("m")]
    assert len(from_events) == len(from_summaries) == 2
    bound = (GAMMA - 1) / (GAMMA + 1) + 0.02  # the histogram's error, and rank against interpolation
    for exact, approx in zip(from_events, from_summaries, strict=True):
        assert (approx.start, approx.count, approx.error_rate) == (exact.start, exact.count, exact.error_rate)
        assert approx.throughput == exact.throughput == 1500 / 3600
        for name in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"):
            assert getattr(approx, name) == pytest.approx(getattr(exact, name), rel=bound)
