"""Classification metrics agree with scikit-learn's on real models and on random and edge data."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from sklearn import metrics
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from modelsteward.checks.performance.metrics import (
    MetricError,
    accuracy,
    bootstrap_all,
    classification_statistics,
    expected_calibration_error,
    macro_f1,
    roc_auc,
)

Fitted = tuple[npt.NDArray[np.int_], npt.NDArray[np.int_], npt.NDArray[np.float64], list[int]]


def fitted(binary: bool) -> Fitted:
    """Labels, predictions, class probabilities and classes of a logistic regression on sklearn's data."""
    features, labels = (load_breast_cancer if binary else load_iris)(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(features[::2], labels[::2])
    held_out, truth = features[1::2], labels[1::2]
    return truth, model.predict(held_out), model.predict_proba(held_out), list(model.classes_)


@pytest.mark.parametrize("binary", [True, False])
def test_real_model_metrics_equal_sklearn(binary: bool) -> None:
    truth, predicted, scores, classes = fitted(binary)
    values = {k: s.value() for k, s in classification_statistics(truth, predicted, scores, classes).items()}
    auc = (
        metrics.roc_auc_score(truth, scores[:, 1])
        if binary
        else metrics.roc_auc_score(truth, scores, multi_class="ovr", average="macro")
    )
    assert values["accuracy"] == pytest.approx(metrics.accuracy_score(truth, predicted))
    assert values["macro_f1"] == pytest.approx(metrics.f1_score(truth, predicted, average="macro"))
    assert values["roc_auc"] == pytest.approx(auc)
    assert 0 <= values["ece"] < 0.2


@pytest.mark.parametrize("seed", range(5))
def test_random_labels_with_tied_scores_equal_sklearn(seed: int) -> None:
    generator = np.random.default_rng(seed)
    truth = generator.choice(["cat", "dog", "eel", "fox"], size=300)
    predicted = np.where(generator.random(300) < 0.5, truth, generator.choice(["cat", "dog", "gnu"], 300))
    binary = generator.integers(0, 2, 300)
    tied = np.round(generator.random(300), 1)  # many ties: each counts one half
    assert macro_f1(truth, predicted).value() == pytest.approx(
        metrics.f1_score(truth, predicted, average="macro")
    )
    assert roc_auc(binary, tied, [0, 1]).value() == pytest.approx(metrics.roc_auc_score(binary, tied))


def test_labels_compare_as_text_so_integer_data_matches_text_predictions() -> None:
    assert accuracy([1, 0, 1, 1], ["1", "0", "0", "1"]).value() == 0.75


def test_perfectly_calibrated_scores_have_zero_calibration_error() -> None:
    # Confidence 0.75 in every row, right in three of four: the bin's accuracy equals its confidence.
    scores = np.array([[0.75, 0.25]] * 4)
    assert expected_calibration_error(["a", "a", "a", "b"], scores, ["a", "b"]).value() == pytest.approx(0)


def test_calibration_error_is_the_row_weighted_gap_per_bin() -> None:
    # Bin [0.9, 1.0]: confidence 0.95 twice, one right -> gap 0.45 over half the rows.
    # Bin [0.6, 0.7): confidence 0.6 twice, both right -> gap 0.4 over half the rows.
    scores = np.array([[0.95, 0.05], [0.95, 0.05], [0.4, 0.6], [0.4, 0.6]])
    ece = expected_calibration_error(["a", "b", "b", "b"], scores, ["a", "b"], bins=10).value()
    assert ece == pytest.approx(0.5 * 0.45 + 0.5 * 0.4)


def test_one_dimensional_scores_are_the_positive_class_score() -> None:
    truth, _, scores, classes = fitted(binary=True)
    assert roc_auc(truth, scores[:, 1], classes).value() == pytest.approx(
        roc_auc(truth, scores, classes).value()
    )


def test_an_auc_is_undefined_without_both_classes() -> None:
    assert np.isnan(roc_auc([1, 1, 1], [0.2, 0.5, 0.9], [0, 1]).value())


def test_metrics_come_with_intervals_around_their_values() -> None:
    truth, predicted, scores, classes = fitted(binary=False)
    estimates = bootstrap_all(classification_statistics(truth, predicted, scores, classes), resamples=200)
    assert set(estimates) == {"accuracy", "macro_f1", "roc_auc", "ece"}
    for estimate in estimates.values():
        assert estimate.low <= estimate.value <= estimate.high
        assert estimate.resamples == 200


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: accuracy([1, 0], [1]), "predicted labels has 1 rows where 2 are expected"),
        (lambda: accuracy([], []), "labels is empty"),
        (lambda: roc_auc([0, 1], [[0.5, 0.5, 0.0]] * 2, [0, 1]), r"class scores must have shape 2 x 2"),
        (lambda: roc_auc([0, 2], [[0.5, 0.5]] * 2, [0, 1]), r"labels \['2'\] are not among the scored"),
        (lambda: roc_auc([0, 1], [[0.5, 0.5]] * 2, [0, 0]), "two or more distinct classes"),
        (lambda: roc_auc([0, 1], [[np.nan, 0.5]] * 2, [0, 1]), "not a finite number in 2 rows"),
        (lambda: expected_calibration_error([0, 1], [[2.0, -1.0]] * 2, [0, 1]), "between 0 and 1"),
        (lambda: classification_statistics([0, 1], [0, 1], [[0.5, 0.5]] * 2), "need the class of each"),
    ],
)
def test_bad_inputs_name_the_problem(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(MetricError, match=message):
        call()
