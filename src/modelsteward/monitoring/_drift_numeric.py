"""Drift of a numeric column: normalised Wasserstein distance, PSI on reference deciles, KS test."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
from scipy import stats

from modelsteward.monitoring._drift_measurement import Distribution, Measurement, subsample

BINS = 10
"""PSI bins: the reference's deciles."""
PSI_EPSILON = 1e-4
"""Share given to an empty bin so that PSI stays finite."""

Floats = npt.NDArray[np.float64]


def measure(reference: Floats, current: Floats, *, sample: int, rng: np.random.Generator) -> Measurement:
    """Compare two non-empty arrays of finite values, in their windows' row order."""
    # Drawn before sorting: positions in a sorted array are ranks, and fixed ranks would freeze
    # the subsample instead of drawing it afresh from each window.
    ref_sample = reference[subsample(reference.size, sample, rng)]
    cur_sample = current[subsample(current.size, sample, rng)]
    test = stats.ks_2samp(ref_sample, cur_sample, method="auto")
    ref = np.sort(reference)
    cur = np.sort(current)
    distance = wasserstein(ref, cur)
    scale = _scale(ref, cur)
    edges = _decile_edges(ref)
    ref_shares = _bin_shares(ref, edges)
    cur_shares = _bin_shares(cur, edges)
    outer = (float(min(ref[0], cur[0])), *map(float, edges), float(max(ref[-1], cur[-1])))
    return Measurement(
        method="wasserstein",
        score=distance / scale,
        test="ks",
        p_value=float(test.pvalue),
        statistics={
            "wasserstein": distance,
            "scale": scale,
            "psi": psi(ref_shares, cur_shares),
            "ks_statistic": float(test.statistic),
        },
        distribution=Distribution(
            labels=tuple(f"{lo:.4g} to {hi:.4g}" for lo, hi in itertools.pairwise(outer)),
            reference=tuple(map(float, ref_shares)),
            current=tuple(map(float, cur_shares)),
            edges=outer,
        ),
    )


def wasserstein(ref: Floats, cur: Floats) -> float:
    """Exact first Wasserstein distance between two sorted samples: the area between their
    quantile functions, integrated over the union of both samples' quantile steps.
    """
    n, m = ref.size, cur.size
    # Steps at k/n and k/m, held as integers over the common denominator n*m so that equal
    # fractions coincide exactly and the index of each quantile is an integer division.
    steps = np.concatenate([np.arange(1, n + 1, dtype=np.int64) * m, np.arange(1, m + 1, dtype=np.int64) * n])
    steps.sort(kind="stable")  # merges the two sorted runs in linear time
    widths = np.diff(steps, prepend=0)
    steps, widths = steps[widths > 0], widths[widths > 0]  # a step both samples share counts once
    gaps = np.abs(ref[(steps - 1) // m] - cur[(steps - 1) // n])
    return float(np.dot(widths, gaps) / (n * m))


def psi(reference: Floats, current: Floats, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of two vectors of bin shares; empty bins count as ``epsilon``."""
    ref = np.maximum(reference, epsilon)
    cur = np.maximum(current, epsilon)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _scale(ref: Floats, cur: Floats) -> float:
    """The reference's standard deviation; for a constant reference, that of both samples
    together (so a change away from a constant is measured, not divided by zero); 1 if both
    are the same constant (the distance is then 0).
    """
    for values in (ref, np.concatenate([ref, cur])):
        spread = float(np.std(values))
        if spread > 0:
            return spread
    return 1.0


def _decile_edges(ref: Floats) -> Floats:
    """Interior edges of the reference's decile bins; ties merge bins."""
    return np.unique(np.quantile(ref, np.arange(1, BINS) / BINS))


def _bin_shares(values: Floats, edges: Floats) -> Floats:
    """Share of sorted ``values`` in each bin ``(-inf, e1], (e1, e2], ..., (ek, inf)``."""
    below = np.searchsorted(values, edges, side="right")
    counts = np.diff(np.concatenate([[0], below, [values.size]]))
    return counts / values.size
