"""Paired comparisons: a clearly better model gets a small p-value, identical ones a large one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.datasets import load_breast_cancer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from modelsteward.checks.performance.metrics import (
    MetricError,
    SignificanceTest,
    classification_statistics,
    mcnemar,
    mcnemar_p_value,
    paired_bootstrap,
)


@pytest.fixture(scope="module")
def candidates() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Held-out labels and the predictions of a real classifier and of a majority-class baseline."""
    features, labels = load_breast_cancer(return_X_y=True)
    train, test = slice(0, None, 2), slice(1, None, 2)
    good = make_pipeline(StandardScaler(), LogisticRegression()).fit(features[train], labels[train])
    baseline = DummyClassifier().fit(features[train], labels[train])
    return labels[test], good.predict(features[test]), baseline.predict(features[test])


def test_paired_bootstrap_finds_the_better_model(candidates: tuple[np.ndarray, ...]) -> None:
    truth, good, baseline = candidates
    comparison = paired_bootstrap(
        "macro_f1",
        classification_statistics(truth, good)["macro_f1"],
        classification_statistics(truth, baseline)["macro_f1"],
    )
    assert comparison.p_value < 0.01
    assert comparison.difference.low > 0
    assert (comparison.metric, comparison.test, comparison.n) == (
        "macro_f1",
        SignificanceTest.PAIRED_BOOTSTRAP,
        truth.size,
    )


def test_paired_bootstrap_of_identical_models_is_not_significant(candidates: tuple[np.ndarray, ...]) -> None:
    truth, good, _ = candidates
    same = classification_statistics(truth, good)["accuracy"]
    comparison = paired_bootstrap("accuracy", same, classification_statistics(truth, good.copy())["accuracy"])
    assert comparison.p_value == 1.0
    assert comparison.difference.value == comparison.difference.low == comparison.difference.high == 0


def test_paired_bootstrap_of_near_equal_models_gives_a_large_p_value() -> None:
    generator = np.random.default_rng(4)
    first = generator.random(500) < 0.8
    second = first.copy()
    # The second is wrong on 12 rows the first gets right and right on 10 it gets wrong.
    second[generator.choice(np.flatnonzero(first), 12, replace=False)] = False
    second[generator.choice(np.flatnonzero(~first), 10, replace=False)] = True
    comparison = paired_bootstrap(
        "accuracy",
        classification_statistics(first, np.ones(500, bool))["accuracy"],
        classification_statistics(second, np.ones(500, bool))["accuracy"],
    )
    assert comparison.difference.value == pytest.approx(2 / 500)
    assert comparison.p_value > 0.5


def test_mcnemar_compares_per_row_correctness(candidates: tuple[np.ndarray, ...]) -> None:
    truth, good, baseline = candidates
    comparison = mcnemar(good == truth, baseline == truth)
    assert comparison.test is SignificanceTest.MCNEMAR_CHI2
    assert comparison.p_value < 1e-6
    assert comparison.difference.value == pytest.approx(np.mean(good == truth) - np.mean(baseline == truth))
    assert comparison.difference.low <= comparison.difference.value <= comparison.difference.high


@pytest.mark.parametrize(("only_first", "only_second"), [(0, 1), (3, 9), (10, 2), (12, 12), (0, 24)])
def test_exact_mcnemar_equals_scipy_binomtest(only_first: int, only_second: int) -> None:
    p_value, test = mcnemar_p_value(only_first, only_second)
    assert test is SignificanceTest.MCNEMAR_EXACT
    assert p_value == pytest.approx(binomtest(only_first, only_first + only_second, 0.5).pvalue)


def test_chi_square_mcnemar_approximates_the_exact_test_for_many_discordant_rows() -> None:
    p_value, test = mcnemar_p_value(70, 40)
    assert test is SignificanceTest.MCNEMAR_CHI2
    assert p_value == pytest.approx(binomtest(70, 110, 0.5).pvalue, rel=0.1)


def test_no_discordant_rows_means_no_evidence() -> None:
    assert mcnemar([True, False], [True, False]).p_value == 1.0


def test_comparisons_need_the_same_rows() -> None:
    with pytest.raises(MetricError, match="same rows: 3 against 2"):
        mcnemar([1, 0, 1], [1, 0])
    with pytest.raises(MetricError, match="true/false"):
        mcnemar([1, 2], [1, 0])
    with pytest.raises(MetricError, match="same rows: 2 against 1"):
        paired_bootstrap(
            "accuracy",
            classification_statistics([1, 0], [1, 0])["accuracy"],
            classification_statistics([1], [1])["accuracy"],
        )
