"""Retrieval metrics from a query x document similarity matrix: recall@k, MRR and nDCG@10.

Each query ranks every document by similarity, highest first; equal similarities keep document
order. Relevance is binary. Every metric is a mean over queries, so resampling resamples queries.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import numpy.typing as npt

from modelsteward.checks.performance.metrics._arrays import MetricError, matrix
from modelsteward.checks.performance.metrics._statistic import Statistic

RECALL_AT = (1, 5, 10)
NDCG_AT = 10


def relevance_matrix(relevant: Sequence[Collection[int]], documents: int) -> npt.NDArray[np.bool_]:
    """The (queries, documents) relevance matrix from the indices of each query's relevant documents."""
    result = np.zeros((len(relevant), documents), dtype=np.bool_)
    for query, indices in enumerate(relevant):
        chosen = np.fromiter(indices, dtype=np.intp)
        if chosen.size and (chosen.min() < 0 or chosen.max() >= documents):
            raise MetricError(f"query {query} names a document outside 0..{documents - 1}")
        result[query, chosen] = True
    return result


def retrieval_statistics(similarity: npt.ArrayLike, relevance: npt.ArrayLike) -> dict[str, Statistic]:
    """``recall@1``, ``recall@5``, ``recall@10``, ``mrr`` and ``ndcg@10``, as means over queries.

    ``relevance`` is a (queries, documents) matrix of true/false (or 0/1), the shape of
    ``similarity``; :func:`relevance_matrix` builds it from the relevant document indices per query.

    recall@k is the share of a query's relevant documents found in its top k; MRR the reciprocal
    rank of its first relevant document in the full ranking.
    """
    scores = matrix(similarity, "similarity", (None, None))
    relevant = _relevance(relevance, scores.shape)
    order = np.argsort(-scores, axis=1, kind="stable")
    hits = np.take_along_axis(relevant, order, axis=1).astype(np.float64)
    count = relevant.sum(axis=1)
    statistics = {f"recall@{k}": Statistic.mean(hits[:, :k].sum(axis=1) / count) for k in RECALL_AT}
    statistics["mrr"] = Statistic.mean(1 / (hits.argmax(axis=1) + 1))
    statistics[f"ndcg@{NDCG_AT}"] = Statistic.mean(_ndcg(hits, count, NDCG_AT))
    return statistics


def _relevance(relevance: npt.ArrayLike, shape: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    given = np.asarray(relevance)
    if given.shape != shape:
        raise MetricError(
            f"relevance must have shape {shape[0]} x {shape[1]} like the similarity, got {given.shape}"
        )
    if given.dtype != np.bool_ and not np.isin(given, (0, 1)).all():
        raise MetricError("relevance must be 0/1 (or true/false) per query and document")
    result = given.astype(np.bool_)
    missing = np.flatnonzero(~result.any(axis=1))
    if missing.size:
        raise MetricError(
            f"{missing.size} queries have no relevant document (the first is query {missing[0]}); "
            "recall and MRR are undefined for them"
        )
    return result


def _ndcg(hits: npt.NDArray[np.float64], count: npt.NDArray[np.int_], k: int) -> npt.NDArray[np.float64]:
    discount = 1 / np.log2(np.arange(2, min(k, hits.shape[1]) + 2))
    gained = hits[:, : discount.size] @ discount
    ideal = np.cumsum(discount)[np.minimum(count, discount.size) - 1]
    result: npt.NDArray[np.float64] = gained / ideal
    return result
