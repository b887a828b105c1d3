"""Regression metrics: mean absolute error, root mean squared error and the coefficient of determination."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from modelsteward.checks.performance.metrics._arrays import numbers
from modelsteward.checks.performance.metrics._statistic import Statistic, Values, Weights, ratio


def mean_absolute_error(targets: npt.ArrayLike, predicted: npt.ArrayLike) -> Statistic:
    """The mean of |target - prediction|."""
    truth, guess = _pair(targets, predicted)
    return Statistic.mean(np.abs(truth - guess))


def root_mean_squared_error(targets: npt.ArrayLike, predicted: npt.ArrayLike) -> Statistic:
    """The square root of the mean squared error (recomputed on each resample, not averaged)."""
    truth, guess = _pair(targets, predicted)
    squared = Statistic.mean((truth - guess) ** 2)
    return Statistic(truth.size, functools.partial(_root, squared))


def r2(targets: npt.ArrayLike, predicted: npt.ArrayLike) -> Statistic:
    """1 - residual sum of squares / total sum of squares.

    Constant targets follow scikit-learn's ``r2_score``: 1 for a perfect prediction, 0 otherwise.
    """
    truth, guess = _pair(targets, predicted)
    # Centring first keeps the weighted total sum of squares free of cancellation for large targets.
    centred = truth - truth.mean()
    columns = np.stack([(truth - guess) ** 2, centred, centred**2], axis=1)
    return Statistic(truth.size, functools.partial(_r2, columns))


def regression_statistics(targets: npt.ArrayLike, predicted: npt.ArrayLike) -> dict[str, Statistic]:
    """``mae``, ``rmse`` and ``r2``."""
    return {
        "mae": mean_absolute_error(targets, predicted),
        "rmse": root_mean_squared_error(targets, predicted),
        "r2": r2(targets, predicted),
    }


def _pair(
    targets: npt.ArrayLike, predicted: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    truth = numbers(targets, "targets")
    return truth, numbers(predicted, "predictions", truth.size)


def _root(squared: Statistic, weights: Weights) -> Values:
    return np.sqrt(squared.evaluate(weights))


def _r2(columns: npt.NDArray[np.float64], weights: Weights) -> Values:
    residual, total, total_squares = (weights @ columns).T
    count = weights.sum(axis=1)
    spread = total_squares - ratio(total**2, count)
    # Constant targets leave only rounding error in the spread.
    constant = spread <= 1e-12 * total_squares
    perfect = np.where(residual == 0, 1.0, 0.0)
    return np.where(constant, perfect, 1 - residual / np.where(constant, 1, spread))
