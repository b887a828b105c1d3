"""Drift of a categorical column: Jensen-Shannon distance and a two-sample chi-square test."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats
from scipy.spatial.distance import jensenshannon

from modelsteward.monitoring._drift_measurement import Distribution, Measurement, subsample

MIN_CELL_TOTAL = 10
"""Categories seen fewer times than this in both subsamples together are pooled for the test:
the chi-square approximation needs expected counts of about 5 per cell."""
_Category = TypeVar("_Category", bound=Hashable)

PLOTTED = 20
"""Most categories a report plots; the rest are summed under ``(other)``."""


def measure(
    reference: pa.ChunkedArray, current: pa.ChunkedArray, *, sample: int, rng: np.random.Generator
) -> Measurement:
    """Compare two non-empty arrays of category values without nulls."""
    ref_counts = _counts(reference)
    cur_counts = _counts(current)
    categories = sorted(
        ref_counts.keys() | cur_counts.keys(), key=lambda c: (-ref_counts[c] - cur_counts[c], str(c))
    )
    ref_shares = _shares(ref_counts, categories)
    cur_shares = _shares(cur_counts, categories)
    statistic, p_value = chi2_two_sample(
        _counts(reference.take(subsample(len(reference), sample, rng))),
        _counts(current.take(subsample(len(current), sample, rng))),
    )
    return Measurement(
        method="jensen_shannon",
        score=jensen_shannon(ref_shares, cur_shares),
        test="chi2",
        p_value=p_value,
        statistics={"chi2_statistic": statistic, "categories": float(len(categories))},
        distribution=_distribution(categories, ref_shares, cur_shares),
    )


def jensen_shannon(p: npt.NDArray[np.float64], q: npt.NDArray[np.float64]) -> float:
    """Jensen-Shannon distance in base 2 (0 for equal distributions, 1 for disjoint ones)."""
    return float(jensenshannon(p, q, base=2))


def chi2_two_sample(
    reference: Mapping[_Category, int], current: Mapping[_Category, int]
) -> tuple[float, float]:
    """Chi-square statistic and p-value of the 2 x k contingency table of two samples' counts.

    Both rows are samples: the test asks whether they come from one distribution, rather than
    treating the reference's frequencies as exact. Sparse categories are pooled into one cell.
    """
    keys = sorted(reference.keys() | current.keys(), key=str)
    table = np.array(
        [[reference.get(k, 0) for k in keys], [current.get(k, 0) for k in keys]], dtype=np.float64
    )
    totals = table.sum(axis=0)
    sparse = totals < MIN_CELL_TOTAL
    if sparse.any():
        pooled = table[:, sparse].sum(axis=1, keepdims=True)
        table = np.hstack([table[:, ~sparse], pooled])
        if table.shape[1] > 1 and pooled.sum() < MIN_CELL_TOTAL:
            # Still too sparse on its own: fold the pool into the smallest real category.
            smallest = int(np.argmin(table[:, :-1].sum(axis=0)))
            table[:, smallest] += table[:, -1]
            table = table[:, :-1]
    if table.shape[1] < 2:
        return 0.0, 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def _counts(values: pa.ChunkedArray | pa.Array) -> Counter[Hashable]:
    counted = pc.value_counts(values)
    return Counter(
        dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True))
    )


def _shares(counts: Mapping[Hashable, int], categories: list[Hashable]) -> npt.NDArray[np.float64]:
    row = np.array([counts.get(c, 0) for c in categories], dtype=np.float64)
    shares: npt.NDArray[np.float64] = row / row.sum()
    return shares


def _distribution(
    categories: list[Hashable], ref: npt.NDArray[np.float64], cur: npt.NDArray[np.float64]
) -> Distribution:
    labels = [str(c) for c in categories[:PLOTTED]]
    ref_plot, cur_plot = list(ref[:PLOTTED]), list(cur[:PLOTTED])
    if len(categories) > PLOTTED:
        labels.append("(other)")
        ref_plot.append(float(ref[PLOTTED:].sum()))
        cur_plot.append(float(cur[PLOTTED:].sum()))
    return Distribution(
        labels=tuple(labels), reference=tuple(map(float, ref_plot)), current=tuple(map(float, cur_plot))
    )
