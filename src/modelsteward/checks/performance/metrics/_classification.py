"""Classification metrics: accuracy, macro-F1, ROC-AUC and expected calibration error.

Labels are compared as text (adapters report a class ``1`` as ``"1"``), so the data's labels and a
model's may differ in type. Class scores are a (rows, classes) array whose columns follow ``classes``;
for two classes a 1-D array is read as the score of the second (positive) class.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from modelsteward.checks.performance.metrics._arrays import MetricError, matrix, vector
from modelsteward.checks.performance.metrics._statistic import Statistic, Values, Weights, ratio

BINS = 10
"""Equal-width confidence bins of the expected calibration error."""

Labels = npt.ArrayLike | Sequence[object]


def accuracy(labels: Labels, predicted: Labels) -> Statistic:
    """The share of rows whose predicted label is the true one."""
    truth, guess = _labels(labels, predicted)
    return Statistic.mean((truth == guess).astype(np.float64))


def macro_f1(labels: Labels, predicted: Labels) -> Statistic:
    """The unweighted mean of per-class F1 over every class that is true or predicted in the rows.

    A class absent from a resample (neither true nor predicted there) does not count in that
    resample, as scikit-learn's ``f1_score(average="macro")`` would do on those rows.
    """
    truth, guess = _labels(labels, predicted)
    classes = np.unique(np.concatenate([truth, guess]))
    is_true = truth[:, None] == classes[None, :]
    is_predicted = guess[:, None] == classes[None, :]
    columns = np.concatenate([is_true & is_predicted, is_true, is_predicted], axis=1).astype(np.float64)
    return Statistic(truth.size, functools.partial(_macro_f1, columns, classes.size))


def roc_auc(labels: Labels, scores: npt.ArrayLike, classes: Sequence[object]) -> Statistic:
    """Area under the ROC curve: of the second class's score for two classes, else one-vs-rest macro.

    Ties between a positive and a negative count one half. A class without both positive and
    negative rows (in the data or in a resample) leaves the AUC undefined there (NaN).
    """
    truth, probabilities, names = _scored(labels, scores, classes)
    columns = [1] if names.size == 2 else range(names.size)
    parts = [_auc_parts(truth == names[k], probabilities[:, k]) for k in columns]
    return Statistic(truth.size, functools.partial(_mean_auc, parts))


def expected_calibration_error(
    labels: Labels, scores: npt.ArrayLike, classes: Sequence[object], *, bins: int = BINS
) -> Statistic:
    """How far the model's confidence is from its accuracy, over ``bins`` equal-width bins.

    Each row's confidence is its highest class probability and it is right when that class is the
    true one. Bin ``b`` holds confidences in [b/bins, (b+1)/bins) (the last bin includes 1); the error
    is the sum over bins of the bin's share of rows times |accuracy - mean confidence| in it.
    """
    if bins < 1:
        raise MetricError(f"the calibration error needs at least one bin, got {bins}")
    truth, probabilities, names = _scored(labels, scores, classes)
    if probabilities.min() < 0 or probabilities.max() > 1:
        raise MetricError("the calibration error needs class probabilities between 0 and 1")
    confidence = probabilities.max(axis=1)
    right = names[probabilities.argmax(axis=1)] == truth
    in_bin = np.minimum((confidence * bins).astype(np.intp), bins - 1)
    gaps = np.zeros((truth.size, bins))
    gaps[np.arange(truth.size), in_bin] = right - confidence
    return Statistic(truth.size, functools.partial(_calibration_error, gaps))


def classification_statistics(
    labels: Labels,
    predicted: Labels,
    scores: npt.ArrayLike | None = None,
    classes: Sequence[object] | None = None,
    *,
    bins: int = BINS,
) -> dict[str, Statistic]:
    """``accuracy`` and ``macro_f1``; with class scores and their ``classes`` also ``roc_auc`` and ``ece``."""
    statistics = {"accuracy": accuracy(labels, predicted), "macro_f1": macro_f1(labels, predicted)}
    if scores is not None:
        if classes is None:
            raise MetricError("class scores need the class of each column (classes)")
        statistics["roc_auc"] = roc_auc(labels, scores, classes)
        statistics["ece"] = expected_calibration_error(labels, scores, classes, bins=bins)
    return statistics


def _labels(labels: Labels, predicted: Labels) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.str_]]:
    truth = vector(np.asarray(labels, dtype=object), "labels").astype(str)
    guess = vector(np.asarray(predicted, dtype=object), "predicted labels", truth.size).astype(str)
    return truth, guess


def _scored(
    labels: Labels, scores: npt.ArrayLike, classes: Sequence[object]
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.float64], npt.NDArray[np.str_]]:
    truth = vector(np.asarray(labels, dtype=object), "labels").astype(str)
    names = np.asarray([str(c) for c in classes])
    if names.size < 2 or np.unique(names).size != names.size:
        raise MetricError(f"classes must name two or more distinct classes, got {names.tolist()}")
    raw = np.asarray(scores, dtype=np.float64)
    if raw.ndim == 1 and names.size == 2:
        raw = np.stack([1 - raw, raw], axis=1)
    probabilities = matrix(raw, "class scores", (truth.size, names.size))
    unknown = sorted(set(truth.tolist()) - set(names.tolist()))
    if unknown:
        raise MetricError(f"labels {unknown[:5]} are not among the scored classes {names.tolist()}")
    return truth, probabilities, names


def _macro_f1(columns: npt.NDArray[np.float64], classes: int, weights: Weights) -> Values:
    totals = weights @ columns
    both, true, predicted = totals[:, :classes], totals[:, classes : 2 * classes], totals[:, 2 * classes :]
    per_class = ratio(2 * both, true + predicted)
    result: Values = np.nanmean(per_class, axis=1)
    return result


_AucParts = tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_], npt.NDArray[np.intp]]


def _auc_parts(positive: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> _AucParts:
    """Rows in score order, which are positive, and where each run of equal scores starts."""
    order = np.argsort(score, kind="stable")
    ordered = score[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return order, positive[order], starts


def _auc(parts: _AucParts, weights: Weights) -> Values:
    order, positive, starts = parts
    ordered = weights[:, order]
    # Weighted positives and negatives per distinct score, lowest score first.
    positives = np.add.reduceat(ordered * positive, starts, axis=1)
    negatives = np.add.reduceat(ordered * ~positive, starts, axis=1)
    below = np.cumsum(negatives, axis=1) - negatives
    wins = (positives * (below + negatives / 2)).sum(axis=1)
    return ratio(wins, positives.sum(axis=1) * negatives.sum(axis=1))


def _mean_auc(parts: list[_AucParts], weights: Weights) -> Values:
    # A class undefined on a resample makes the macro mean undefined there (sklearn refuses such data).
    result: Values = np.mean([_auc(p, weights) for p in parts], axis=0)
    return result


def _calibration_error(gaps: npt.NDArray[np.float64], weights: Weights) -> Values:
    return ratio(np.abs(weights @ gaps).sum(axis=1), weights.sum(axis=1))
