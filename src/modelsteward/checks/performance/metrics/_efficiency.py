"""Summaries of measured speed: latency percentiles per batch and throughput."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from modelsteward.checks.performance.metrics._arrays import MetricError, numbers


@dataclass(frozen=True, slots=True)
class Latency:
    """Percentiles of per-batch latency, in seconds (linear interpolation between measurements)."""

    p50: float
    p95: float
    p99: float
    mean: float
    batches: int
    """Batches measured."""


@dataclass(frozen=True, slots=True)
class Throughput:
    """Rows processed over the time they took."""

    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """Rows per second; infinite when no measurable time passed."""
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def latency(seconds: Sequence[float]) -> Latency:
    """Summarise the seconds each batch took."""
    times = numbers(seconds, "batch latencies")
    if times.min() < 0:
        raise MetricError("batch latencies must not be negative")
    p50, p95, p99 = np.percentile(times, [50, 95, 99])
    return Latency(float(p50), float(p95), float(p99), float(times.mean()), int(times.size))


def throughput(rows: int, seconds: float) -> Throughput:
    """Throughput of ``rows`` rows processed in ``seconds`` seconds."""
    if rows < 0 or not np.isfinite(seconds) or seconds < 0:
        raise MetricError(
            f"throughput needs a row count and a time of zero or more, got {rows} in {seconds}s"
        )
    return Throughput(rows, float(seconds))
