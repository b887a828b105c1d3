"""What a model costs: latency per batch, throughput, and how both change with batch size and concurrency."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelsteward.checks.performance.adapters import Operation
from modelsteward.checks.performance.metrics import Latency, latency
from modelsteward.core.progress import Progress
from modelsteward.evaluation._batches import Inputs, make_batch
from modelsteward.evaluation._session import Session


@dataclass(frozen=True, slots=True)
class Point:
    """One point of the scaling curve."""

    batch_size: int
    concurrency: int
    """Copies of the model answering at once (sandboxed workers, or parallel requests to an endpoint)."""
    latency: Latency
    """Seconds per batch."""
    throughput: float
    """Rows per second over all copies."""


@dataclass(frozen=True, slots=True)
class Efficiency:
    """The cost of running the model, as the evaluation measured it."""

    batch_size: int
    """The batch size of the evaluation pass that ``latency`` and ``throughput`` describe."""
    latency: Latency
    """Seconds per batch in the evaluation pass."""
    throughput: float
    """Rows per second in the evaluation pass."""
    load_seconds: float
    """From asking for the model to holding it (worker start, imports, weights)."""
    sandbox_start_seconds: float
    """Of which starting the sandboxed worker took this long."""
    peak_memory_bytes: int | None
    """The worker's peak resident memory; None for an endpoint."""
    size_bytes: int | None
    """The model's files on disk."""
    scaling: tuple[Point, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON object of every field."""
        return {
            "batch_size": self.batch_size,
            "latency_ms": _milliseconds(self.latency),
            "throughput": self.throughput,
            "load_seconds": self.load_seconds,
            "sandbox_start_seconds": self.sandbox_start_seconds,
            "peak_memory_bytes": self.peak_memory_bytes,
            "size_bytes": self.size_bytes,
            "scaling": [
                {
                    "batch_size": p.batch_size,
                    "concurrency": p.concurrency,
                    "latency_ms": _milliseconds(p.latency),
                    "throughput": p.throughput,
                    "batches": p.latency.batches,
                }
                for p in self.scaling
            ],
        }


def _milliseconds(measured: Latency) -> dict[str, float]:
    return {"p50": measured.p50 * 1e3, "p95": measured.p95 * 1e3, "p99": measured.p99 * 1e3}


def scaling_curve(
    sessions: Sequence[Session],
    operation: Operation,
    inputs: Inputs,
    *,
    batch_sizes: Sequence[int],
    concurrency: Sequence[int],
    rows_per_point: int,
    options: Mapping[str, Any] | None = None,
    say: Progress | None = None,
) -> tuple[Point, ...]:
    """Time batches of each size on 1..n sessions at once; ``sessions`` holds at least ``max(concurrency)``.

    Each point runs about ``rows_per_point`` rows per session (at least three batches), cycling through
    ``inputs`` so that a small evaluation set still fills large batches.
    """
    points = []
    for size in batch_sizes:
        batches = max(3, -(-rows_per_point // size))
        for copies in concurrency:
            if say is not None:
                say(f"timing batches of {size} on {copies} at once")
            points.append(_point(sessions[:copies], operation, inputs, size, batches, options))
    return tuple(points)


def _point(
    sessions: Sequence[Session],
    operation: Operation,
    inputs: Inputs,
    size: int,
    batches: int,
    options: Mapping[str, Any] | None,
) -> Point:
    rows = len(inputs)
    # Batches are cut before the clock starts: only the model's time is measured.
    planned = [
        make_batch(operation, _cycled(inputs, (index * size) % rows, size), 0, size, options)
        for index in range(batches)
    ]

    def drive(session: Session) -> list[float]:
        return [session.predict(batch)[1] for batch in planned]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        latencies = [seconds for result in pool.map(drive, sessions) for seconds in result]
    wall = time.perf_counter() - started
    return Point(
        batch_size=size,
        concurrency=len(sessions),
        latency=latency(latencies),
        throughput=size * len(latencies) / wall,
    )


def _cycled(inputs: Inputs, start: int, size: int) -> Inputs:
    """``size`` rows of ``inputs`` from ``start``, wrapping around the end."""
    indices = [(start + offset) % len(inputs) for offset in range(size)]
    if isinstance(inputs, np.ndarray):
        return inputs[indices]
    return [inputs[index] for index in indices]
