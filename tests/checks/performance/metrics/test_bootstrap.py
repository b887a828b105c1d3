"""Bootstrap intervals: shared resamples, replicates equal to the metric on resampled rows, seeded."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics

from modelsteward.checks.performance.metrics import (
    MetricError,
    Statistic,
    bootstrap,
    bootstrap_all,
    draw_counts,
    macro_f1,
    resample,
    roc_auc,
)


def correctness(rows: int, seed: int = 0) -> Statistic:
    return Statistic.mean((np.random.default_rng(seed).random(rows) < 0.7).astype(np.float64))


def test_interval_contains_the_estimate_and_narrows_with_more_rows() -> None:
    small, large = bootstrap(correctness(100)), bootstrap(correctness(4000))
    for estimate in (small, large):
        assert estimate.low <= estimate.value <= estimate.high
        assert (estimate.level, estimate.resamples) == (0.95, 1000)
    assert large.high - large.low < (small.high - small.low) / 3


def test_the_same_seed_gives_the_same_interval_and_another_seed_another() -> None:
    statistic = correctness(300)
    assert bootstrap(statistic, seed=7) == bootstrap(statistic, seed=7)
    assert bootstrap(statistic, seed=7) != bootstrap(statistic, seed=8)


def test_replicates_are_the_metric_on_rows_drawn_as_one_index_array() -> None:
    generator = np.random.default_rng(1)
    truth, scores = generator.integers(0, 2, 80), generator.random(80)
    predicted = (scores > 0.5).astype(int)
    indices = np.random.default_rng(5).integers(0, 80, size=(20, 80))
    replicates = resample(
        {"f1": macro_f1(truth, predicted), "auc": roc_auc(truth, scores, [0, 1])}, resamples=20, seed=5
    )
    for row, drawn in enumerate(indices):
        assert replicates["f1"][row] == pytest.approx(
            metrics.f1_score(truth[drawn], predicted[drawn], average="macro")
        )
        assert replicates["auc"][row] == pytest.approx(metrics.roc_auc_score(truth[drawn], scores[drawn]))


def test_resamples_in_blocks_continue_the_same_draws() -> None:
    # 2**22 cells per block: with 300_000 rows a block holds 13 resamples, so 30 take three blocks.
    terms = np.random.default_rng(2).random(300_000)
    replicates = resample({"mean": Statistic.mean(terms)}, resamples=30, seed=3)["mean"]
    generator = np.random.default_rng(3)
    expected = [
        terms[generator.integers(0, 300_000, size=(size, 300_000))].mean(axis=1) for size in (13, 13, 4)
    ]
    assert replicates == pytest.approx(np.concatenate(expected))


def test_draw_counts_count_each_row() -> None:
    counts = draw_counts(np.array([[0, 0, 2], [1, 2, 2]]))
    assert counts.tolist() == [[2, 0, 1], [0, 1, 2]]


def test_resamples_where_the_metric_is_undefined_are_left_out() -> None:
    # Two rows, one of each class: about half the resamples lack a class and have no AUC.
    estimate = bootstrap(roc_auc([0, 1], [0.2, 0.8], [0, 1]), resamples=400)
    assert 100 < estimate.resamples < 300
    assert estimate.low == estimate.high == estimate.value == 1.0


def test_no_resamples_gives_no_interval() -> None:
    estimate = bootstrap(correctness(10), resamples=0)
    assert np.isnan(estimate.low) and np.isnan(estimate.high) and estimate.resamples == 0


def test_estimates_write_json_with_null_for_nan() -> None:
    estimate = bootstrap(correctness(50), resamples=200)
    assert json.loads(json.dumps(estimate.to_json(), allow_nan=False)) == {
        "value": estimate.value,
        "low": estimate.low,
        "high": estimate.high,
        "level": 0.95,
        "resamples": 200,
    }
    no_interval = bootstrap(correctness(10), resamples=0).to_json()
    assert (no_interval["low"], no_interval["high"], no_interval["resamples"]) == (None, None, 0)
    assert isinstance(no_interval["value"], float)
    # One class only: the AUC itself is undefined.
    undefined = bootstrap(roc_auc([1, 1], [0.2, 0.8], [0, 1]), resamples=10).to_json()
    assert (undefined["value"], undefined["low"], undefined["high"]) == (None, None, None)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bootstrap(correctness(10), level=1.0), "strictly between 0 and 1"),
        (lambda: bootstrap(correctness(10), resamples=-1), "zero or more"),
        (lambda: bootstrap_all({"a": correctness(10), "b": correctness(11)}), "the same rows"),
    ],
)
def test_bad_settings_are_refused(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(MetricError, match=message):
        call()
