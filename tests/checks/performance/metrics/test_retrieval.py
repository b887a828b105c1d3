"""Retrieval metrics from similarity and relevance, against scikit-learn's nDCG and hand counts."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from modelsteward.checks.performance.metrics import MetricError, relevance_matrix, retrieval_statistics


def values(similarity: object, relevance: object) -> dict[str, float]:
    return {k: s.value() for k, s in retrieval_statistics(similarity, relevance).items()}  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(4))
def test_ndcg_equals_sklearn_on_random_data(seed: int) -> None:
    generator = np.random.default_rng(seed)
    similarity = generator.random((40, 60))
    relevance = generator.random((40, 60)) < 0.1
    relevance[np.arange(40), generator.integers(0, 60, 40)] = True
    assert values(similarity, relevance)["ndcg@10"] == pytest.approx(
        ndcg_score(relevance.astype(int), similarity, k=10)
    )


def test_hand_counted_ranks() -> None:
    # Query 0 ranks documents 2, 0, 1 and wants 0: rank 2. Query 1 ranks 0, 1, 2 and wants 0 and 2.
    similarity = np.array([[0.5, 0.1, 0.9], [0.9, 0.5, 0.1]])
    result = values(similarity, relevance_matrix([[0], [0, 2]], documents=3))
    assert result["recall@1"] == pytest.approx((0 + 1 / 2) / 2)
    assert result["recall@5"] == result["recall@10"] == 1.0
    assert result["mrr"] == pytest.approx((1 / 2 + 1) / 2)
    ideal_two = 1 + 1 / np.log2(3)
    assert result["ndcg@10"] == pytest.approx(((1 / np.log2(3)) + (1 + 1 / np.log2(4)) / ideal_two) / 2)


def test_per_query_terms_are_exposed_for_resampling() -> None:
    statistics = retrieval_statistics(np.eye(3), np.eye(3, dtype=bool))
    terms = statistics["mrr"].terms
    assert terms is not None
    assert terms.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("relevance", "message"),
    [
        (np.zeros((2, 3), bool), "2 queries have no relevant document"),
        (np.ones((3, 2), bool), "relevance must have shape 2 x 3"),
        (np.full((2, 3), 2), "0/1"),
    ],
)
def test_bad_relevance_is_refused(relevance: object, message: str) -> None:
    with pytest.raises(MetricError, match=message):
        retrieval_statistics(np.zeros((2, 3)), relevance)  # type: ignore[arg-type]


def test_indices_outside_the_documents_are_refused() -> None:
    with pytest.raises(MetricError, match=r"query 1 names a document outside 0\.\.2"):
        relevance_matrix([[0], [3]], documents=3)
