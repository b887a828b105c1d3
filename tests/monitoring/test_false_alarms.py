"""False alarms and power of each kind's default test, measured over repeated seeded draws.

On unshifted data a test calibrated at alpha rejects in about alpha of the draws; the count of
rejections in DRAWS draws is then binomial, and exceeding its 99.9th percentile would show the
test raising more false alarms than its nominal level. Drift decisions also need a material
distance, so they can only be rarer than the test's rejections. On a real shift, nearly every
draw must drift.

Numeric and categorical columns use the default settings on windows five times the subsample.
Text and embedding columns use a subsample of 200 rows to keep the suite fast: the held-out
Mann-Whitney test is valid at any size, and the size only changes its power.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import stats

from modelsteward.monitoring._drift import DriftSettings, compare

DRAWS = 200
POWER_DRAWS = 20
ALPHA = DriftSettings().alpha
LIMIT = int(stats.binom.ppf(0.999, DRAWS, ALPHA))
"""Most rejections in DRAWS draws a test at level ALPHA reaches with probability 0.999."""

Draw = Callable[[np.random.Generator, bool], pa.Array]
"""(random generator, shifted) -> one window of one column."""

ROWS = 5000
SMALL_ROWS = 300
CATEGORIES = np.array([f"c{i}" for i in range(30)])
ZIPF = 1 / np.arange(1, 31) ** 1.2 / np.sum(1 / np.arange(1, 31) ** 1.2)  # some categories rare
ENGLISH = np.array(
    [
        "the",
        "model",
        "reads",
        "data",
        "and",
        "writes",
        "answers",
        "for",
        "every",
        "single",
        "request",
        "today",
    ]
)
FRENCH = np.array(
    ["le", "modèle", "lit", "les", "données", "et", "écrit", "des", "réponses", "pour", "chaque", "requête"]
)


def _numeric(rng: np.random.Generator, shifted: bool) -> pa.Array:
    # Skewed: a lognormal, shifted by a third of its log-scale spread.
    return pa.array(rng.lognormal(0.3 if shifted else 0.0, 0.6, ROWS))


def _categorical(rng: np.random.Generator, shifted: bool) -> pa.Array:
    shares = ZIPF.copy()
    if shifted:
        shares[0], shares[3] = shares[0] - 0.15, shares[3] + 0.15
    return pa.array(rng.choice(CATEGORIES, ROWS, p=shares))


def _text(rng: np.random.Generator, shifted: bool) -> pa.Array:
    words = rng.integers(0, len(ENGLISH), (SMALL_ROWS, 8))
    sentences = [" ".join(row) for row in ENGLISH[words]]
    if shifted:
        half = SMALL_ROWS // 2
        sentences[half:] = [" ".join(row) for row in FRENCH[words[half:] % len(FRENCH)]]
    return pa.array(sentences)


def _embedding(rng: np.random.Generator, shifted: bool) -> pa.Array:
    values = rng.standard_t(5, (SMALL_ROWS, 16)) + (0.5 if shifted else 0.0)
    return pa.FixedSizeListArray.from_arrays(pa.array(values.ravel()), 16)


CASES = [
    pytest.param(_numeric, "numeric", DriftSettings(), id="numeric"),
    pytest.param(_categorical, "categorical", DriftSettings(), id="categorical"),
    pytest.param(_text, "text", DriftSettings(sample=200), id="text"),
    pytest.param(_embedding, "embedding", DriftSettings(sample=200), id="embedding"),
]


def _outcomes(
    draw: Draw, settings: DriftSettings, *, shifted: bool, draws: int, seed: int
) -> tuple[int, int, str]:
    """(rejections by the test, drift decisions, kind) over ``draws`` seeded draws."""
    rng = np.random.default_rng(seed)
    rejected = drifted = 0
    kinds = set()
    for _ in range(draws):
        result = compare(
            pa.table({"x": draw(rng, False)}), pa.table({"x": draw(rng, shifted)}), settings
        ).column("x")
        assert result.p_value is not None
        rejected += result.p_value < settings.alpha
        drifted += result.drifted
        kinds.add(result.kind)
    return rejected, drifted, "/".join(sorted(kinds))


@pytest.mark.parametrize(("draw", "kind", "settings"), CASES)
def test_false_alarms_stay_at_or_below_alpha(draw: Draw, kind: str, settings: DriftSettings) -> None:
    rejected, drifted, seen = _outcomes(draw, settings, shifted=False, draws=DRAWS, seed=100)
    assert seen == kind
    assert rejected <= LIMIT, f"{kind}: {rejected} of {DRAWS} unshifted draws rejected at alpha={ALPHA}"
    assert drifted <= rejected


@pytest.mark.parametrize("draw", [_numeric, _categorical], ids=["numeric", "categorical"])
def test_windows_stored_sorted_raise_no_more_false_alarms(draw: Draw) -> None:
    # Parquet writers often sort by a column; subsamples drawn at the same positions of every
    # sorted window would share one frozen sampling error and reject always or never.
    def stored_sorted(rng: np.random.Generator, shifted: bool) -> pa.Array:
        values = draw(rng, shifted)
        return values.take(pc.array_sort_indices(values))

    rejected, _, _ = _outcomes(stored_sorted, DriftSettings(), shifted=False, draws=DRAWS, seed=300)
    assert rejected <= LIMIT
    assert rejected > 0  # not frozen at "never" either


@pytest.mark.parametrize(("draw", "kind", "settings"), CASES)
def test_a_real_shift_is_found(draw: Draw, kind: str, settings: DriftSettings) -> None:
    _, drifted, seen = _outcomes(draw, settings, shifted=True, draws=POWER_DRAWS, seed=200)
    assert seen == kind
    assert drifted >= POWER_DRAWS - 1, f"{kind}: only {drifted} of {POWER_DRAWS} shifted draws drifted"
