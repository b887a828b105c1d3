"""What one drift method measures about one column, before a threshold decides anything."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Distribution:
    """Reference and current distributions of one column, small enough to plot in a report."""

    labels: tuple[str, ...]
    """One label per bar: a bin (``0.12 to 0.57``, upper edge included) or a category."""
    reference: tuple[float, ...]
    """Share of the reference's non-null values in each bar (sums to 1)."""
    current: tuple[float, ...]
    """Share of the current window's non-null values in each bar (sums to 1)."""
    edges: tuple[float, ...] = ()
    """Numeric columns: the bins' edges (one more than ``labels``); empty for categories."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """The statistics one method computed on a column's non-null values."""

    method: str
    """Name of the deciding distance (``wasserstein``, ``jensen_shannon``, ``domain_auc``)."""
    score: float
    """Value of the deciding distance; compared with the column's threshold."""
    test: str
    """Name of the significance test run on fixed-size subsamples (``ks``, ``chi2``, ``mann_whitney``)."""
    p_value: float
    """The test's p-value: how likely a difference this large is when nothing changed."""
    statistics: Mapping[str, float] = field(default_factory=dict)
    """Secondary statistics by name (``psi``, ``ks_statistic``, ``chi2_statistic``, ...)."""
    distribution: Distribution | None = None
    """What a report plots; None where no small picture exists (text, embeddings)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "statistics", MappingProxyType(dict(self.statistics)))


def subsample(size: int, limit: int, rng: np.random.Generator) -> npt.NDArray[np.intp]:
    """Indices of ``limit`` rows drawn without replacement from ``size`` rows, or all of them.

    Tests on a fixed-size sample answer "is the change visible at this size?", which a window of
    millions of rows would answer "yes" for any change however small.
    """
    if size <= limit:
        return np.arange(size)
    return np.sort(rng.choice(size, size=limit, replace=False))
