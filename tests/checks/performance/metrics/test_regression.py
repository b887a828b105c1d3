"""Regression metrics agree with scikit-learn's, on a real model and on edge data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from modelsteward.checks.performance.metrics import MetricError, bootstrap_all, regression_statistics


def values(targets: object, predicted: object) -> dict[str, float]:
    return {name: s.value() for name, s in regression_statistics(targets, predicted).items()}  # type: ignore[arg-type]


def test_real_model_metrics_equal_sklearn() -> None:
    features, targets = load_diabetes(return_X_y=True)
    predicted = Ridge().fit(features[::2], targets[::2]).predict(features[1::2])
    truth = targets[1::2]
    assert values(truth, predicted) == pytest.approx(
        {
            "mae": metrics.mean_absolute_error(truth, predicted),
            "rmse": metrics.root_mean_squared_error(truth, predicted),
            "r2": metrics.r2_score(truth, predicted),
        }
    )


def test_large_offsets_do_not_lose_precision() -> None:
    generator = np.random.default_rng(3)
    truth = 1e9 + generator.normal(size=200)
    predicted = truth + generator.normal(scale=0.5, size=200)
    assert values(truth, predicted)["r2"] == pytest.approx(metrics.r2_score(truth, predicted), rel=1e-6)


@pytest.mark.parametrize(("predicted", "expected"), [([2.0, 2.0, 2.0], 1.0), ([2.0, 2.0, 3.0], 0.0)])
def test_constant_targets_follow_sklearn(predicted: list[float], expected: float) -> None:
    assert values([2.0, 2.0, 2.0], predicted)["r2"] == expected == metrics.r2_score([2.0] * 3, predicted)


def test_rmse_interval_is_recomputed_per_resample_not_averaged() -> None:
    estimate = bootstrap_all(
        regression_statistics([0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 4.0]), resamples=500
    )["rmse"]
    assert estimate.value == pytest.approx(2.0)
    assert estimate.low == 0.0
    assert estimate.high == pytest.approx(np.sqrt(16 * 3 / 4))


def test_non_numbers_and_missing_values_are_refused() -> None:
    with pytest.raises(MetricError, match="targets must be numbers"):
        regression_statistics(["a", "b"], [1.0, 2.0])
    with pytest.raises(
        MetricError, match=r"predictions is not a finite number in 1 rows \(the first is row 1\)"
    ):
        regression_statistics([1.0, 2.0], [1.0, np.nan])
