"""Group metrics: how a classifier's outcomes differ between groups of people, computed with Fairlearn.

Every rate and gap comes from Fairlearn (``MetricFrame`` and its disparity functions) so that the
numbers are Fairlearn's own. A multiclass problem is judged one-vs-rest: the ``positive`` label is the
favourable outcome (a loan granted, a high income), every other label is "not selected".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import accuracy_score, roc_auc_score

FOUR_FIFTHS = 0.8
"""The four-fifths rule of the US EEOC Uniform Guidelines: a group's selection rate below 80% of the
highest group's is evidence of adverse impact."""

DEFAULT_MIN_GROUP_SIZE = 30


@dataclass(frozen=True, slots=True)
class GroupMetrics:
    """One group's outcomes: its size, accuracy and rates for the positive label."""

    values: tuple[str, ...]
    """The group's value of each sensitive feature, in the order of :attr:`Disparity.features`."""
    count: int
    accuracy: float
    """Accuracy over the original labels (every class, not one-vs-rest)."""
    selection_rate: float
    """Fraction predicted ``positive``."""
    true_positive_rate: float
    """Fraction of actual positives predicted positive; NaN when the group has none."""
    false_positive_rate: float
    """Fraction of actual negatives predicted positive; NaN when the group has none."""
    roc_auc: float | None
    """ROC AUC of the scores, when scores were given and the group holds both outcomes."""
    too_small: bool
    """Smaller than the minimum size: reported, but too small to judge and left out of the gaps."""

    def to_json(self, features: Sequence[str]) -> dict[str, Any]:
        """A JSON-able dict; ``features`` names the values (the enclosing :attr:`Disparity.features`)."""
        return {
            "group": dict(zip(features, self.values, strict=True)),
            "count": self.count,
            "accuracy": _finite(self.accuracy),
            "selection_rate": _finite(self.selection_rate),
            "true_positive_rate": _finite(self.true_positive_rate),
            "false_positive_rate": _finite(self.false_positive_rate),
            "roc_auc": None if self.roc_auc is None else _finite(self.roc_auc),
            "too_small": self.too_small,
        }


@dataclass(frozen=True, slots=True)
class Disparity:
    """The groups of one sensitive feature (or of an intersection of several) and the gaps between them.

    The gaps are Fairlearn's ``between_groups`` definitions over the groups large enough to judge;
    they are None when fewer than two such groups remain.
    """

    features: tuple[str, ...]
    """One feature (``("sex",)``), or several for their intersection (``("sex", "race")``)."""
    groups: tuple[GroupMetrics, ...]
    demographic_parity_difference: float | None
    """Largest minus smallest selection rate."""
    demographic_parity_ratio: float | None
    """Smallest over largest selection rate."""
    equalized_odds_difference: float | None
    """The larger of the true-positive-rate gap and the false-positive-rate gap."""

    @property
    def excluded(self) -> tuple[tuple[str, ...], ...]:
        """The groups left out of the gaps as too small to judge."""
        return tuple(group.values for group in self.groups if group.too_small)

    @property
    def passes_four_fifths(self) -> bool | None:
        """Whether every judged group's selection rate is at least 4/5 of the highest; None if unjudged."""
        if self.demographic_parity_ratio is None:
            return None
        return self.demographic_parity_ratio >= FOUR_FIFTHS

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict of the groups, the gaps and the four-fifths verdict."""
        return {
            "features": list(self.features),
            "groups": [group.to_json(self.features) for group in self.groups],
            "excluded": [dict(zip(self.features, values, strict=True)) for values in self.excluded],
            "demographic_parity_difference": _optional(self.demographic_parity_difference),
            "demographic_parity_ratio": _optional(self.demographic_parity_ratio),
            "equalized_odds_difference": _optional(self.equalized_odds_difference),
            "passes_four_fifths": self.passes_four_fifths,
        }


@dataclass(frozen=True, slots=True)
class GroupFairness:
    """Group metrics for every sensitive feature and for their intersection."""

    positive: str
    """The favourable label (as text); the rates are one-vs-rest for it."""
    min_group_size: int
    disparities: tuple[Disparity, ...]
    """One per sensitive feature, in the order given, then one for the intersection of all of them."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict, with a note saying how small groups were treated."""
        return {
            "positive": self.positive,
            "min_group_size": self.min_group_size,
            "note": (
                f"groups with fewer than {self.min_group_size} rows are too small to judge: "
                "they are listed but left out of the gaps"
            ),
            "disparities": [disparity.to_json() for disparity in self.disparities],
        }


def group_fairness(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    sensitive: pd.DataFrame | Mapping[str, ArrayLike],
    *,
    positive: object,
    scores: ArrayLike | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> GroupFairness:
    """Per-group metrics and gaps for each sensitive column and for the intersection of all of them.

    ``positive`` is the favourable label; with more than two classes every other label counts as
    negative (one-vs-rest). ``scores``, when given, are the model's scores for ``positive`` and add a
    per-group ROC AUC. Groups with fewer than ``min_group_size`` rows are flagged too small to judge
    and left out of the gaps. Raise ValueError on mismatched lengths, missing sensitive values or a
    ``positive`` label that appears nowhere.
    """
    truth = np.asarray(y_true)
    predicted = np.asarray(y_pred)
    columns = _sensitive_frame(sensitive, len(truth))
    if truth.ndim != 1 or predicted.shape != truth.shape:
        raise ValueError(
            f"y_true and y_pred must be 1-d and of one length (got {truth.shape}, {predicted.shape})"
        )
    if not (np.any(truth == positive) or np.any(predicted == positive)):
        raise ValueError(f"positive label {positive!r} appears in neither y_true nor y_pred")
    if min_group_size < 1:
        raise ValueError(f"min_group_size must be at least 1 (got {min_group_size})")
    score_values = None if scores is None else np.asarray(scores, dtype=float)
    if score_values is not None and score_values.shape != truth.shape:
        raise ValueError(f"scores must hold one value per row (got {score_values.shape}, want {truth.shape})")
    outcomes = _Outcomes(
        truth, predicted, (truth == positive).astype(int), (predicted == positive).astype(int)
    )
    feature_sets = [(name,) for name in columns.columns]
    if len(columns.columns) > 1:
        feature_sets.append(tuple(columns.columns))
    return GroupFairness(
        positive=str(positive),
        min_group_size=min_group_size,
        disparities=tuple(
            _disparity(outcomes, columns[list(features)], score_values, min_group_size)
            for features in feature_sets
        ),
    )


@dataclass(frozen=True, slots=True)
class _Outcomes:
    """The labels as given (for accuracy) and as positive-or-not (for the rates)."""

    labels_true: NDArray[Any]
    labels_pred: NDArray[Any]
    true: NDArray[np.int_]
    """1 where the true label is the positive one."""
    pred: NDArray[np.int_]
    """1 where the predicted label is the positive one."""


_RATES: Mapping[str, Callable[..., float]] = {
    "count": count,
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
}


def _disparity(
    outcomes: _Outcomes, features: pd.DataFrame, scores: NDArray[np.float64] | None, min_group_size: int
) -> Disparity:
    names = tuple(str(name) for name in features.columns)
    rates = MetricFrame(
        metrics=dict(_RATES), y_true=outcomes.true, y_pred=outcomes.pred, sensitive_features=features
    ).by_group
    accuracy = MetricFrame(
        metrics=accuracy_score,
        y_true=outcomes.labels_true,
        y_pred=outcomes.labels_pred,
        sensitive_features=features,
    ).by_group
    auc = None
    if scores is not None:
        auc = MetricFrame(
            metrics=_roc_auc, y_true=outcomes.true, y_pred=scores, sensitive_features=features
        ).by_group
    groups = []
    for key, row in rates.iterrows():
        if not row["count"] > 0:  # an intersection Fairlearn lists but no row falls into
            continue
        values = tuple(str(value) for value in (key if isinstance(key, tuple) else (key,)))
        # Fairlearn gives 0 for a rate whose denominator is empty; the rate is undefined there.
        positives = int(outcomes.true[_in_groups(features, [values])].sum())
        negatives = int(row["count"]) - positives
        groups.append(
            GroupMetrics(
                values=values,
                count=int(row["count"]),
                accuracy=float(accuracy.loc[key]),
                selection_rate=float(row["selection_rate"]),
                true_positive_rate=float(row["true_positive_rate"]) if positives else math.nan,
                false_positive_rate=float(row["false_positive_rate"]) if negatives else math.nan,
                roc_auc=None if auc is None or math.isnan(auc.loc[key]) else float(auc.loc[key]),
                too_small=int(row["count"]) < min_group_size,
            )
        )
    judged = [group for group in groups if not group.too_small]
    if len(judged) < 2:
        return Disparity(names, tuple(groups), None, None, None)
    keep = _in_groups(features, [group.values for group in judged])
    true, pred, kept = outcomes.true[keep], outcomes.pred[keep], features[keep]
    return Disparity(
        features=names,
        groups=tuple(groups),
        demographic_parity_difference=float(
            demographic_parity_difference(true, pred, sensitive_features=kept)
        ),
        demographic_parity_ratio=float(demographic_parity_ratio(true, pred, sensitive_features=kept)),
        equalized_odds_difference=float(equalized_odds_difference(true, pred, sensitive_features=kept)),
    )


def _sensitive_frame(sensitive: pd.DataFrame | Mapping[str, ArrayLike], rows: int) -> pd.DataFrame:
    """The sensitive columns as text (group names must be JSON keys), checked for length and gaps."""
    frame = sensitive if isinstance(sensitive, pd.DataFrame) else pd.DataFrame(dict(sensitive))
    if frame.shape[1] == 0:
        raise ValueError("no sensitive columns given")
    if len(frame) != rows:
        raise ValueError(f"sensitive columns have {len(frame)} rows, predictions have {rows}")
    text = {}
    for name in frame.columns:
        missing = int(frame[name].isna().sum())
        if missing:
            raise ValueError(f"sensitive column {name!r} has {missing} missing values; fill or drop them")
        text[str(name)] = frame[name].astype(str).to_numpy()
    return pd.DataFrame(text)


def _in_groups(features: pd.DataFrame, groups: Sequence[tuple[str, ...]]) -> NDArray[np.bool_]:
    """A row mask: the rows that fall into one of ``groups``."""
    wanted = set(groups)
    return np.fromiter(
        (values in wanted for values in features.itertuples(index=False, name=None)),
        dtype=bool,
        count=len(features),
    )


def _roc_auc(y_true: NDArray[np.int_], scores: NDArray[np.float64]) -> float:
    """ROC AUC, or NaN in a group where it is undefined (only one outcome present)."""
    if len(np.unique(y_true)) < 2:
        return math.nan
    return float(roc_auc_score(y_true, scores))


def _finite(value: float) -> float | None:
    """JSON has no NaN: an undefined rate becomes null."""
    return None if math.isnan(value) else value


def _optional(value: float | None) -> float | None:
    return None if value is None else _finite(value)
