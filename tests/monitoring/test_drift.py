"""Drift statistics against hand-computed and scipy values; kinds, decisions, overrides and errors."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from modelsteward.monitoring._drift import (
    ColumnOverride,
    DriftSettings,
    column_kind,
    compare,
)
from modelsteward.monitoring._drift_categorical import chi2_two_sample, jensen_shannon
from modelsteward.monitoring._drift_classifier import domain_classifier
from modelsteward.monitoring._drift_numeric import psi, wasserstein

# --- the statistics ------------------------------------------------------------------------


def test_wasserstein_of_shifted_points_is_the_shift() -> None:
    assert wasserstein(np.array([0.0, 1.0]), np.array([1.0, 2.0])) == pytest.approx(1.0)


def test_wasserstein_matches_scipy_on_samples_of_different_sizes() -> None:
    rng = np.random.default_rng(3)
    ref, cur = rng.normal(size=37), rng.exponential(size=53)
    expected = stats.wasserstein_distance(ref, cur)
    assert wasserstein(np.sort(ref), np.sort(cur)) == pytest.approx(expected, rel=1e-12)


def test_psi_by_hand_and_empty_bins_stay_finite() -> None:
    # (0.25 - 0.5) ln(0.5) + (0.75 - 0.5) ln(1.5) = 0.25 ln 3
    assert psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(0.25 * math.log(3))
    empty = psi(np.array([0.5, 0.5]), np.array([1.0, 0.0]), epsilon=1e-4)
    assert empty == pytest.approx(0.5 * math.log(2) + (1e-4 - 0.5) * math.log(1e-4 / 0.5))


def test_jensen_shannon_by_hand() -> None:
    assert jensen_shannon(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)
    # M = (0.75, 0.25); KL(p|M) = 0.5 log2(2/3) + 0.5; KL(q|M) = log2(4/3); JSD = their mean.
    divergence = (0.5 * math.log2(2 / 3) + 0.5 + math.log2(4 / 3)) / 2
    assert jensen_shannon(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == pytest.approx(math.sqrt(divergence))


def test_chi2_is_the_two_sample_contingency_test() -> None:
    reference = {"a": 40, "b": 30, "c": 30}
    current = {"a": 20, "b": 50, "c": 30}
    expected = stats.chi2_contingency(np.array([[40, 30, 30], [20, 50, 30]]), correction=False)
    assert chi2_two_sample(reference, current) == pytest.approx((expected.statistic, expected.pvalue))


def test_chi2_pools_sparse_categories() -> None:
    reference = {"a": 40, "b": 30, "rare1": 3, "rare2": 4}
    current = {"a": 20, "b": 50, "rare1": 2, "rare3": 5}
    pooled = np.array([[40, 30, 7], [20, 50, 7]])
    expected = stats.chi2_contingency(pooled, correction=False)
    assert chi2_two_sample(reference, current) == pytest.approx((expected.statistic, expected.pvalue))


def test_chi2_of_one_category_is_no_evidence() -> None:
    assert chi2_two_sample({"a": 100}, {"a": 300}) == (0.0, 1.0)


def test_domain_classifier_auc_and_p_value() -> None:
    rng = np.random.default_rng(5)
    apart = domain_classifier(
        rng.normal(0, 1, (400, 4)), rng.normal(3, 1, (400, 4)), rng=np.random.default_rng(0), scale=True
    )
    assert apart.score > 0.95
    assert apart.p_value < 1e-20
    same = domain_classifier(
        rng.normal(0, 1, (400, 4)), rng.normal(0, 1, (400, 4)), rng=np.random.default_rng(0), scale=True
    )
    assert 0.4 < same.score < 0.6


def test_domain_auc_is_the_held_out_roc_auc() -> None:
    # With one feature, a fitted logistic regression ranks rows by that feature (its sign set by
    # the training half), so the held-out AUC is the ROC AUC of the feature on the held-out rows.
    rng = np.random.default_rng(8)
    ref, cur = rng.normal(0, 1, (200, 1)), rng.normal(0.7, 1, (200, 1))
    measured = domain_classifier(ref, cur, rng=np.random.default_rng(1), scale=False)
    order = np.random.default_rng(1)
    held_ref = np.sort(order.permutation(200)[100:])
    held_cur = np.sort(order.permutation(200)[100:])
    labels = np.r_[np.zeros(100), np.ones(100)]
    scores = np.r_[ref[held_ref, 0], cur[held_cur, 0]]
    assert measured.score == pytest.approx(roc_auc_score(labels, scores))


# --- kinds ---------------------------------------------------------------------------------


def _kind_of(array: pa.Array) -> str:
    table = pa.table({"x": array})
    return column_kind(table.schema.field("x"), table.column("x"))


def test_kinds_are_inferred_from_types_and_values() -> None:
    assert _kind_of(pa.array([1, 2, 3])) == "numeric"
    assert _kind_of(pa.array([1.5, None])) == "numeric"
    assert _kind_of(pa.array([True, False])) == "categorical"
    assert _kind_of(pa.array(["a", "b"]).dictionary_encode()) == "categorical"
    assert _kind_of(pa.array(["red", "green", None] * 50)) == "categorical"
    assert _kind_of(pa.array([f"sentence number {i}" for i in range(500)])) == "text"
    # A few dozen distinct sentences are text, not a few dozen categories: categories repeat.
    assert _kind_of(pa.array([f"sentence number {i}" for i in range(60)])) == "text"
    assert _kind_of(pa.array(["red", "green", "blue", "red", "green", "blue"])) == "categorical"
    assert _kind_of(pa.array([[0.1, 0.2], [0.3, 0.4]], pa.list_(pa.float32(), 2))) == "embedding"
    assert _kind_of(pa.array([[0.1, 0.2], [0.3, 0.4]])) == "embedding"


def test_an_unsupported_type_names_the_column() -> None:
    with pytest.raises(ValueError, match=r"column 'x' has type struct"):
        _kind_of(pa.array([{"a": 1}]))


# --- compare -------------------------------------------------------------------------------

ROWS = 20_000


def _table(rng: np.random.Generator, *, shifted: bool) -> pa.Table:
    shift = 1.0 if shifted else 0.0
    colours = rng.choice(["red", "green", "blue"], ROWS, p=[0.2, 0.3, 0.5] if shifted else [0.5, 0.3, 0.2])
    return pa.table(
        {
            "income": rng.lognormal(10, 0.5, ROWS),
            "age": rng.normal(40 + 10 * shift, 10, ROWS),
            "colour": colours,
            "member": rng.random(ROWS) < 0.3,
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(rng.normal(shift, 1, ROWS * 4)), 4),
        }
    )


def test_shifted_columns_drift_and_unshifted_do_not() -> None:
    rng = np.random.default_rng(11)
    report = compare(_table(rng, shifted=False), _table(rng, shifted=True))
    drifted = {c.column for c in report.columns if c.drifted}
    assert drifted == {"age", "colour", "vector"}
    assert report.share == pytest.approx(3 / 5)
    assert report.drifted
    assert (report.reference_rows, report.current_rows) == (ROWS, ROWS)
    age = report.column("age")
    assert (age.kind, age.method, age.test) == ("numeric", "wasserstein", "ks")
    assert age.score == pytest.approx(1.0, abs=0.05)  # a shift of one standard deviation
    assert age.statistics["psi"] > 0.25


def test_unshifted_windows_do_not_drift() -> None:
    rng = np.random.default_rng(12)
    report = compare(_table(rng, shifted=False), _table(rng, shifted=False))
    assert [c.column for c in report.columns if c.drifted] == []
    assert not report.drifted
    assert report.share == 0.0


def test_a_large_window_with_an_immaterial_shift_does_not_drift() -> None:
    rng = np.random.default_rng(13)
    ref, cur = rng.normal(0, 1, 500_000), rng.normal(0.02, 1, 500_000)
    # A KS test on the whole window calls this tiny shift significant ...
    assert stats.ks_2samp(ref, cur).pvalue < 1e-10
    result = compare(pa.table({"x": ref}), pa.table({"x": cur})).column("x")
    # ... but it is under the material threshold, and the fixed-size test does not see it.
    assert result.score == pytest.approx(0.02, abs=0.005)
    assert not result.drifted


def test_numeric_p_value_is_ks_on_the_whole_of_small_windows() -> None:
    rng = np.random.default_rng(14)
    ref, cur = rng.normal(0, 1, 300), rng.normal(0.3, 1, 400)
    result = compare(pa.table({"x": ref}), pa.table({"x": cur})).column("x")
    assert result.p_value == pytest.approx(stats.ks_2samp(ref, cur).pvalue)
    assert result.score == pytest.approx(stats.wasserstein_distance(ref, cur) / np.std(ref))


def test_numeric_distribution_has_decile_bins() -> None:
    ref = pa.table({"x": np.arange(1000, dtype=np.float64)})
    cur = pa.table({"x": np.arange(1000, 2000, dtype=np.float64)})
    result = compare(ref, cur).column("x")
    assert result.distribution is not None
    assert len(result.distribution.labels) == 10
    assert len(result.distribution.edges) == 11
    assert result.distribution.reference == pytest.approx([0.1] * 10)
    assert result.distribution.current == pytest.approx([0.0] * 9 + [1.0])
    assert result.drifted


def test_a_constant_reference_is_scaled_by_both_windows() -> None:
    result = compare(pa.table({"x": [5.0] * 200}), pa.table({"x": [5.0] * 100 + [7.0] * 100})).column("x")
    spread = np.std([5.0] * 300 + [7.0] * 100)
    assert result.score == pytest.approx(1.0 / spread)
    assert result.drifted


def test_categorical_shares_and_chi2() -> None:
    ref = pa.table({"c": ["a"] * 60 + ["b"] * 40})
    cur = pa.table({"c": ["a"] * 20 + ["b"] * 72 + ["c"] * 8})
    result = compare(ref, cur).column("c")
    assert result.distribution is not None
    assert result.distribution.labels == ("b", "a", "c")
    assert result.distribution.reference == pytest.approx((0.4, 0.6, 0.0))
    assert result.distribution.current == pytest.approx((0.72, 0.2, 0.08))
    # 'c' (8 rows, too sparse for the chi-square) is folded into the smaller category, 'a'.
    expected = stats.chi2_contingency(np.array([[40, 60], [72, 20 + 8]]), correction=False)
    assert result.p_value == pytest.approx(expected.pvalue)
    shares = (np.array([0.4, 0.6, 0.0]), np.array([0.72, 0.2, 0.08]))
    assert result.score == pytest.approx(jensen_shannon(*shares))


def test_nulls_are_counted_and_statistics_use_the_rest() -> None:
    ref = pa.table({"x": [1.0, 2.0, 3.0, None] * 50})
    cur = pa.table({"x": [1.0, 2.0, 3.0, None, None, float("nan")] * 50})
    result = compare(ref, cur).column("x")
    assert (result.reference_nulls, result.current_nulls) == (50, 150)
    assert result.null_shift == pytest.approx(0.5 - 0.25)
    assert result.score == 0.0
    assert not result.drifted


def test_a_column_whose_values_vanish_drifts_on_nulls() -> None:
    ref = pa.table({"x": [1.0, 2.0], "y": pa.array([None, None], pa.float64())})
    cur = pa.table({"x": pa.array([None, None], pa.float64()), "y": pa.array([None, None], pa.float64())})
    report = compare(ref, cur)
    assert (report.column("x").method, report.column("x").drifted, report.column("x").score) == (
        "nulls",
        True,
        1.0,
    )
    assert (report.column("y").method, report.column("y").drifted) == ("nulls", False)


def test_overrides_change_kind_and_threshold() -> None:
    rng = np.random.default_rng(15)
    ref = pa.table({"code": rng.integers(0, 4, 5000), "x": rng.normal(0, 1, 5000)})
    cur = pa.table({"code": rng.integers(0, 5, 5000), "x": rng.normal(0.5, 1, 5000)})
    plain = compare(ref, cur)
    assert plain.column("code").kind == "numeric"
    assert plain.column("x").drifted
    settings = DriftSettings(
        overrides={"code": ColumnOverride(kind="categorical"), "x": ColumnOverride(threshold=0.8)}
    )
    tuned = compare(ref, cur, settings)
    assert (tuned.column("code").kind, tuned.column("code").method) == ("categorical", "jensen_shannon")
    assert tuned.column("code").drifted
    assert tuned.column("x").threshold == 0.8
    assert not tuned.column("x").drifted


def test_text_drift_is_seen_by_the_domain_classifier() -> None:
    rng = np.random.default_rng(16)
    english = np.array(
        ["the", "model", "reads", "data", "and", "writes", "answers", "for", "every", "request"]
    )
    french = np.array(
        [
            "le",
            "modèle",
            "lit",
            "les",
            "données",
            "et",
            "écrit",
            "des",
            "réponses",
            "pour",
            "chaque",
            "requête",
        ]
    )

    def sentences(words: np.ndarray, n: int) -> list[str]:
        return [" ".join(row) for row in words[rng.integers(0, len(words), (n, 6))]]

    ref = pa.table({"t": sentences(english, 600)})
    report = compare(ref, pa.table({"t": sentences(english, 300) + sentences(french, 300)}))
    text = report.column("t")
    assert (text.kind, text.method, text.test) == ("text", "domain_auc", "mann_whitney")
    assert text.drifted
    assert not compare(ref, pa.table({"t": sentences(english, 600)})).column("t").drifted


def test_results_are_deterministic_and_independent_of_other_columns() -> None:
    rng = np.random.default_rng(17)
    ref, cur = _table(rng, shifted=False), _table(rng, shifted=True)
    whole = compare(ref, cur)
    assert compare(ref, cur) == whole
    assert compare(ref, cur, columns=["colour"]).column("colour") == whole.column("colour")
    assert compare(ref, cur, DriftSettings(seed=1)).column("colour").p_value != whole.column("colour").p_value


# --- errors --------------------------------------------------------------------------------


def test_bad_inputs_name_the_problem() -> None:
    ref = pa.table({"x": [1.0, 2.0], "s": ["a", "b"]})
    with pytest.raises(ValueError, match="current window has no rows"):
        compare(ref, ref.slice(0, 0))
    with pytest.raises(ValueError, match="reference has no rows"):
        compare(ref.slice(0, 0), ref)
    with pytest.raises(ValueError, match=r"'s' missing from the current window"):
        compare(ref, ref.select(["x"]))
    with pytest.raises(ValueError, match=r"'y' missing from the reference"):
        compare(ref, ref, columns=["x", "y"])
    with pytest.raises(ValueError, match="no columns"):
        compare(ref, ref, columns=[])
    with pytest.raises(ValueError, match=r"overrides name column\(s\) 'typo'"):
        compare(ref, ref, DriftSettings(overrides={"typo": ColumnOverride(threshold=0.2)}))
    with pytest.raises(ValueError, match=r"column 'x' holds infinite values"):
        compare(ref, pa.table({"x": [1.0, float("inf")], "s": ["a", "b"]}))
    with pytest.raises(ValueError, match=r"column 'x' has type string, which cannot be compared as numeric"):
        compare(ref, pa.table({"x": ["1", "2"], "s": ["a", "b"]}))


def test_bad_vectors_name_the_column() -> None:
    ref = pa.table({"v": pa.array([[1.0, 2.0]] * 10)})
    with pytest.raises(ValueError, match=r"'v' holds vectors of 2 values in the reference but 3"):
        compare(ref, pa.table({"v": pa.array([[1.0, 2.0, 3.0]] * 10)}))
    with pytest.raises(ValueError, match=r"'v' holds vectors of different or zero lengths"):
        compare(ref, pa.table({"v": pa.array([[1.0, 2.0], [1.0]] * 5)}))
    with pytest.raises(ValueError, match=r"'v' has 2 non-null values in a window"):
        compare(ref, pa.table({"v": pa.array([[1.0, 2.0]] * 2)}))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"alpha": 0.0}, "alpha must be between 0 and 1"),
        ({"share": 1.5}, "share must be above 0 and at most 1"),
        ({"sample": 5}, "sample must be at least 20"),
        ({"seed": -1}, "seed must be at least 0"),
        ({"numeric_threshold": -1.0}, "numeric_threshold must be a finite number"),
        ({"overrides": {"x": ColumnOverride(kind="image")}}, "override for column 'x': kind must be one of"),  # type: ignore[arg-type]
        ({"overrides": {"x": ColumnOverride(threshold=math.nan)}}, "override for column 'x': threshold"),
    ],
)
def test_bad_settings_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DriftSettings(**changes)  # type: ignore[arg-type]
