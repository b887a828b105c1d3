"""Paired significance: is one candidate better than another on the same rows?"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from modelsteward.checks.performance.metrics._arrays import MetricError, vector
from modelsteward.checks.performance.metrics._bootstrap import (
    LEVEL,
    RESAMPLES,
    SEED,
    Estimate,
    estimate,
    resample,
)
from modelsteward.checks.performance.metrics._statistic import Statistic

EXACT_BELOW = 25
"""McNemar's test is exact (binomial) below this many discordant rows, chi-square from it on."""


class SignificanceTest(enum.StrEnum):
    """How a comparison's p-value was computed."""

    PAIRED_BOOTSTRAP = "paired-bootstrap"
    MCNEMAR_EXACT = "mcnemar-exact"
    MCNEMAR_CHI2 = "mcnemar-chi2"
    """Chi-square with one degree of freedom and Edwards' continuity correction."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """How two candidates differ on one metric, evaluated on the same rows."""

    metric: str
    difference: Estimate
    """First candidate minus second, with its paired bootstrap interval."""
    p_value: float
    """Two-sided: the chance of a difference at least this large if the candidates were equally good."""
    test: SignificanceTest
    n: int
    """Rows (queries for retrieval) both candidates were evaluated on."""


def paired_bootstrap(
    metric: str,
    first: Statistic,
    second: Statistic,
    *,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = SEED,
) -> Comparison:
    """Compare two candidates on any metric by resampling rows jointly.

    The p-value centres the resampled differences on zero (the null hypothesis of no difference) and
    counts how often they are at least as far from zero as the observed one, with the usual +1
    correction so that it is never exactly zero.
    """
    difference = first.minus(second)
    observed = difference.value()
    replicates = resample({metric: difference}, resamples=resamples, seed=seed)[metric]
    defined = replicates[~np.isnan(replicates)]
    extreme = np.count_nonzero(np.abs(defined - observed) >= abs(observed))
    p_value = (extreme + 1) / (defined.size + 1) if defined.size else float("nan")
    return Comparison(
        metric,
        estimate(observed, replicates, level),
        float(p_value),
        SignificanceTest.PAIRED_BOOTSTRAP,
        first.rows,
    )


def mcnemar(
    first_correct: npt.ArrayLike,
    second_correct: npt.ArrayLike,
    *,
    metric: str = "accuracy",
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = SEED,
) -> Comparison:
    """McNemar's test on per-row correctness, with the paired bootstrap interval of the accuracy gap.

    Only rows where exactly one candidate is right carry information. With fewer than
    :data:`EXACT_BELOW` of them the p-value is the exact two-sided binomial one; otherwise the
    chi-square approximation with continuity correction.
    """
    first = _correctness(first_correct, "first candidate's correctness")
    second = _correctness(second_correct, "second candidate's correctness")
    if first.size != second.size:
        raise MetricError(f"McNemar's test needs the same rows: {first.size} against {second.size}")
    only_first = int(np.count_nonzero(first & ~second))
    only_second = int(np.count_nonzero(~first & second))
    p_value, test = mcnemar_p_value(only_first, only_second)
    gap = Statistic.mean(first.astype(np.float64)).minus(Statistic.mean(second.astype(np.float64)))
    replicates = resample({metric: gap}, resamples=resamples, seed=seed)[metric]
    return Comparison(metric, estimate(gap.value(), replicates, level), p_value, test, first.size)


def mcnemar_p_value(only_first: int, only_second: int) -> tuple[float, SignificanceTest]:
    """The two-sided McNemar p-value from the two counts of discordant rows, and which test gave it."""
    discordant = only_first + only_second
    if discordant < EXACT_BELOW:
        if discordant == 0:
            return 1.0, SignificanceTest.MCNEMAR_EXACT
        tail = stats.binom.cdf(min(only_first, only_second), discordant, 0.5)
        return float(min(1.0, 2 * tail)), SignificanceTest.MCNEMAR_EXACT
    statistic = (abs(only_first - only_second) - 1) ** 2 / discordant
    return float(stats.chi2.sf(statistic, df=1)), SignificanceTest.MCNEMAR_CHI2


def _correctness(values: npt.ArrayLike, name: str) -> npt.NDArray[np.bool_]:
    array = vector(values, name)
    if array.dtype != np.bool_ and not np.isin(array, (0, 1)).all():
        raise MetricError(f"{name} must be true/false (or 1/0) per row")
    return array.astype(np.bool_)
