"""Drift of text and embedding columns: can a classifier tell the two windows apart?

A logistic regression learns, on half of a fixed-size subsample of each window, which window a
row came from; its scores on the other half give the AUC (0.5: indistinguishable) and, through
the Mann-Whitney U test on those held-out scores, an exact-in-distribution p-value: the held-out
rows played no part in training, so under no drift their scores are exchangeable.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from scipy import sparse, stats
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from modelsteward.monitoring._drift_measurement import Measurement, subsample

MIN_ROWS = 4
"""Fewest non-null rows per window: two to train on and two to score."""
NGRAMS = (1, 3)
"""Character n-gram lengths hashed for text, within word boundaries."""
HASHED_FEATURES = 2**16
REGULARISATION = 0.1
"""Inverse strength of the classifier's L2 penalty (scikit-learn's ``C``)."""

_VECTORIZER = HashingVectorizer(
    analyzer="char_wb", ngram_range=NGRAMS, n_features=HASHED_FEATURES, alternate_sign=False, norm="l2"
)

Features: TypeAlias = npt.NDArray[np.float64] | sparse.csr_matrix


def text(
    reference: pa.ChunkedArray, current: pa.ChunkedArray, *, sample: int, rng: np.random.Generator
) -> Measurement:
    """Compare two arrays of strings without nulls by hashed character n-grams."""
    ref = reference.take(subsample(len(reference), sample, rng)).to_pylist()
    cur = current.take(subsample(len(current), sample, rng)).to_pylist()
    return domain_classifier(_VECTORIZER.transform(ref), _VECTORIZER.transform(cur), rng=rng, scale=False)


def embedding(
    reference: npt.NDArray[np.float64],
    current: npt.NDArray[np.float64],
    *,
    sample: int,
    rng: np.random.Generator,
) -> Measurement:
    """Compare two matrices of embeddings (one row per value, same width)."""
    ref = reference[subsample(reference.shape[0], sample, rng)]
    cur = current[subsample(current.shape[0], sample, rng)]
    return domain_classifier(ref, cur, rng=rng, scale=True)


def domain_classifier(
    reference: Features, current: Features, *, rng: np.random.Generator, scale: bool
) -> Measurement:
    """Held-out AUC of a classifier telling ``current`` rows (label 1) from ``reference`` rows."""
    train_ref, test_ref = _halves(reference.shape[0], rng)
    train_cur, test_cur = _halves(current.shape[0], rng)
    x_train = _stack(reference[train_ref], current[train_cur])
    y_train = np.r_[np.zeros(train_ref.size), np.ones(train_cur.size)]
    x_ref, x_cur = reference[test_ref], current[test_cur]
    if scale:
        scaler = StandardScaler().fit(x_train)
        x_train, x_ref, x_cur = scaler.transform(x_train), scaler.transform(x_ref), scaler.transform(x_cur)
    # liblinear's cost follows the non-zero features, not the 65,536 hashed columns as lbfgs's
    # does; its dual form is the fast one when features outnumber rows (hashed text), the primal
    # otherwise (embeddings). Strong regularisation converges fast and overfits a few rows less.
    model = LogisticRegression(
        C=REGULARISATION,
        solver="liblinear",
        dual=x_train.shape[1] > x_train.shape[0],
        random_state=int(rng.integers(2**31 - 1)),
    ).fit(x_train, y_train)
    cur_scores = model.decision_function(x_cur)
    ref_scores = model.decision_function(x_ref)
    test = stats.mannwhitneyu(cur_scores, ref_scores, alternative="greater")
    return Measurement(
        method="domain_auc",
        score=float(test.statistic) / (cur_scores.size * ref_scores.size),
        test="mann_whitney",
        p_value=float(test.pvalue),
        statistics={"held_out_reference": float(ref_scores.size), "held_out_current": float(cur_scores.size)},
    )


def _halves(size: int, rng: np.random.Generator) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    order = rng.permutation(size)
    return np.sort(order[: size // 2]), np.sort(order[size // 2 :])


def _stack(reference: Features, current: Features) -> Features:
    if sparse.issparse(reference):
        return sparse.vstack([reference, current], format="csr")
    return np.vstack([reference, current])
