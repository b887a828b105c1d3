"""Token classification: span-level precision, recall and F1, counting only exact label-and-span matches."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from modelsteward.checks.performance.metrics._arrays import same_length
from modelsteward.checks.performance.metrics._statistic import Statistic, Values, Weights, ratio


class Span(Protocol):
    """An entity in a text: its label and character offsets (the adapters' ``Entity`` is one)."""

    @property
    def label(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


def entity_statistics(
    expected: Sequence[Iterable[Span]], found: Sequence[Iterable[Span]]
) -> dict[str, Statistic]:
    """``entity_precision``, ``entity_recall`` and ``entity_f1``, micro-averaged over all entities.

    A found entity counts only if an expected one in the same row has the same label, start and end.
    Each is recomputed from per-row counts on every resample; undefined (NaN) without any entity.
    """
    same_length(expected, found, ("expected entities", "found entities"))
    counts = np.array([_counts(e, f) for e, f in zip(expected, found, strict=True)], dtype=np.float64)
    return {
        "entity_precision": _ratio_of(counts, numerator=(0,), denominator=(1,)),
        "entity_recall": _ratio_of(counts, numerator=(0,), denominator=(2,)),
        "entity_f1": _ratio_of(counts, numerator=(0, 0), denominator=(1, 2)),
    }


def _counts(expected: Iterable[Span], found: Iterable[Span]) -> tuple[int, int, int]:
    """Matches, found entities and expected entities of one row."""
    gold = {(s.label, s.start, s.end) for s in expected}
    guessed = {(s.label, s.start, s.end) for s in found}
    return len(gold & guessed), len(guessed), len(gold)


def _ratio_of(
    counts: npt.NDArray[np.float64], numerator: tuple[int, ...], denominator: tuple[int, ...]
) -> Statistic:
    """Sum of the count columns in ``numerator`` over the sum of those in ``denominator``.

    F1 is 2 * matches / (found + expected), so repeating a column doubles it.
    """
    return Statistic(counts.shape[0], functools.partial(_ratio, counts, numerator, denominator))


def _ratio(
    counts: npt.NDArray[np.float64],
    numerator: tuple[int, ...],
    denominator: tuple[int, ...],
    weights: Weights,
) -> Values:
    totals = weights @ counts
    return ratio(totals[:, list(numerator)].sum(axis=1), totals[:, list(denominator)].sum(axis=1))
