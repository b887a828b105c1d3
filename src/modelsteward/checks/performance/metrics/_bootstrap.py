"""Percentile bootstrap confidence intervals, and the resamples every interval and paired test share."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from modelsteward.checks.performance.metrics._arrays import MetricError
from modelsteward.checks.performance.metrics._statistic import Statistic, Values, Weights

RESAMPLES = 1000
LEVEL = 0.95
SEED = 0
_BLOCK_CELLS = 1 << 22
"""Resamples are drawn in blocks of about this many (resample, row) cells, to bound memory."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """A metric's value on the data and its bootstrap confidence interval."""

    value: float
    low: float
    """Lower bound of the interval; NaN when there is none (no resample gave a value)."""
    high: float
    level: float
    """Coverage the interval aims at (0.95)."""
    resamples: int
    """Resamples on which the metric was defined (an AUC needs both classes in the resample)."""

    def to_json(self) -> dict[str, float | int | None]:
        """The estimate as a JSON object; NaN (no value, no interval) becomes null."""
        return {
            "value": _number(self.value),
            "low": _number(self.low),
            "high": _number(self.high),
            "level": self.level,
            "resamples": self.resamples,
        }


def bootstrap(
    statistic: Statistic, *, resamples: int = RESAMPLES, level: float = LEVEL, seed: int = SEED
) -> Estimate:
    """The value of ``statistic`` and its percentile bootstrap interval at ``level``."""
    return bootstrap_all({"": statistic}, resamples=resamples, level=level, seed=seed)[""]


def bootstrap_all(
    statistics: Mapping[str, Statistic], *, resamples: int = RESAMPLES, level: float = LEVEL, seed: int = SEED
) -> dict[str, Estimate]:
    """Estimates for several metrics of the same rows, all computed on the same resamples."""
    replicates = resample(statistics, resamples=resamples, seed=seed)
    return {name: estimate(s.value(), replicates[name], level) for name, s in statistics.items()}


def resample(statistics: Mapping[str, Statistic], *, resamples: int, seed: int) -> dict[str, Values]:
    """Each statistic on ``resamples`` bootstrap resamples of its rows (the same resamples for all).

    Row indices are drawn as a (resamples, rows) array from a generator seeded with ``seed`` (in
    blocks, so memory stays bounded) and turned into per-row draw counts: the same seed and rows give
    the same resamples on any machine.
    """
    rows = {s.rows for s in statistics.values()}
    if len(rows) != 1:
        raise MetricError(f"metrics resampled together must cover the same rows, got {sorted(rows)}")
    if resamples < 0:
        raise MetricError(f"resamples must be zero or more, got {resamples}")
    (count,) = rows
    generator = np.random.default_rng(seed)
    block = max(1, _BLOCK_CELLS // count)
    replicates = {name: np.empty(resamples) for name in statistics}
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        weights = draw_counts(generator.integers(0, count, size=(size, count)))
        for name, statistic in statistics.items():
            replicates[name][start : start + size] = statistic.evaluate(weights)
    return replicates


def draw_counts(indices: np.ndarray[tuple[int, int], np.dtype[np.int64]]) -> Weights:
    """Resampled row indices of shape (resamples, rows) -> how often each row was drawn, same shape."""
    size, count = indices.shape
    flat = (indices + count * np.arange(size)[:, None]).ravel()
    return np.bincount(flat, minlength=size * count).reshape(size, count).astype(np.float64)


def estimate(value: float, replicates: Values, level: float) -> Estimate:
    """The percentile interval of ``replicates`` (NaN ones dropped) around ``value``."""
    if not 0 < level < 1:
        raise MetricError(f"the confidence level must lie strictly between 0 and 1, got {level}")
    defined = replicates[~np.isnan(replicates)]
    if defined.size == 0:
        return Estimate(value, float("nan"), float("nan"), level, 0)
    tail = (1 - level) / 2
    low, high = np.quantile(defined, [tail, 1 - tail])
    return Estimate(value, float(low), float(high), level, int(defined.size))


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value
