"""Latency percentiles and throughput."""

from __future__ import annotations

import pytest

from modelsteward.checks.performance.metrics import MetricError, latency, throughput


def test_percentiles_interpolate_between_measurements() -> None:
    summary = latency([float(s) for s in range(1, 101)])
    assert (summary.p50, summary.p95, summary.p99) == pytest.approx((50.5, 95.05, 99.01))
    assert (summary.mean, summary.batches) == (50.5, 100)


def test_throughput_is_rows_per_second() -> None:
    assert throughput(500, 2.0).rows_per_second == 250.0
    assert throughput(0, 0.0).rows_per_second == float("inf")


def test_bad_measurements_are_refused() -> None:
    with pytest.raises(MetricError, match="batch latencies is empty"):
        latency([])
    with pytest.raises(MetricError, match="must not be negative"):
        latency([0.1, -0.2])
    with pytest.raises(MetricError, match="throughput needs"):
        throughput(10, float("nan"))
