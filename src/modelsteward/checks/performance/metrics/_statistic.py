"""A metric as a function of row weights: one code path for its value and for every bootstrap resample."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from modelsteward.checks.performance.metrics._arrays import MetricError

Weights = npt.NDArray[np.float64]
"""Shape (resamples, rows): how many times each row counts in each resample."""
Values = npt.NDArray[np.float64]
"""Shape (resamples,): the metric on each resample; NaN where it is undefined there."""


@dataclass(frozen=True, slots=True, eq=False)
class Statistic:
    """A metric over ``rows`` rows, evaluated under row weights.

    All-ones weights give the metric itself; the draw counts of a bootstrap resample give its value on
    that resample. Every metric here is built from weighted sums over rows, so a whole block of
    resamples is a few matrix products rather than a Python loop.
    """

    rows: int
    evaluate: Callable[[Weights], Values]
    """Weights of shape (resamples, rows) -> one value per resample."""
    terms: npt.NDArray[np.float64] | None = None
    """Per-row (per-query) contributions when the metric is their mean (accuracy, MAE, recall@k)."""

    @classmethod
    def mean(cls, terms: npt.NDArray[np.float64]) -> Statistic:
        """The mean of per-row ``terms``."""
        return cls(rows=terms.size, evaluate=functools.partial(_weighted_mean, terms), terms=terms)

    def value(self) -> float:
        """The metric on the rows as they are (every weight one)."""
        return float(self.evaluate(np.ones((1, self.rows)))[0])

    def minus(self, other: Statistic) -> Statistic:
        """The difference ``self - other`` on the same rows, for paired comparisons."""
        if other.rows != self.rows:
            raise MetricError(f"a paired comparison needs the same rows: {self.rows} against {other.rows}")
        terms = None if self.terms is None or other.terms is None else self.terms - other.terms
        return Statistic(self.rows, functools.partial(_difference, self.evaluate, other.evaluate), terms)


def ratio(numerator: Values, denominator: Values) -> Values:
    """``numerator / denominator`` with NaN (undefined) where the denominator is zero."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator == 0, np.nan, numerator / np.where(denominator == 0, 1, denominator))


def _weighted_mean(terms: npt.NDArray[np.float64], weights: Weights) -> Values:
    return ratio(weights @ terms, weights.sum(axis=1))


def _difference(
    first: Callable[[Weights], Values], second: Callable[[Weights], Values], weights: Weights
) -> Values:
    return first(weights) - second(weights)
