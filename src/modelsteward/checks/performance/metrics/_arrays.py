"""Input checks shared by every metric: one error type, and arrays of the shape a metric needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt


class MetricError(ValueError):
    """The inputs of a metric do not fit together; the message names the input and what was wrong."""


def vector(values: npt.ArrayLike, name: str, rows: int | None = None) -> npt.NDArray[Any]:
    """``values`` as a non-empty 1-D array, of ``rows`` entries when given."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise MetricError(f"{name} must be one value per row (1-D), got shape {array.shape}")
    if array.size == 0:
        raise MetricError(f"{name} is empty: a metric needs at least one row")
    if rows is not None and array.size != rows:
        raise MetricError(f"{name} has {array.size} rows where {rows} are expected")
    return array


def numbers(values: npt.ArrayLike, name: str, rows: int | None = None) -> npt.NDArray[np.float64]:
    """``values`` as a finite float vector (see :func:`vector`)."""
    array = vector(values, name, rows)
    if not np.issubdtype(array.dtype, np.number) and array.dtype != np.bool_:
        raise MetricError(f"{name} must be numbers, got {array.dtype}")
    result = array.astype(np.float64)
    _finite(result, name)
    return result


def matrix(values: npt.ArrayLike, name: str, shape: tuple[int | None, int | None]) -> npt.NDArray[np.float64]:
    """``values`` as a finite 2-D float array; a None in ``shape`` accepts any non-zero extent."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or any(
        want is not None and got != want for got, want in zip(array.shape, shape, strict=True)
    ):
        wanted = " x ".join("any" if extent is None else str(extent) for extent in shape)
        raise MetricError(f"{name} must have shape {wanted}, got {array.shape}")
    if array.size == 0:
        raise MetricError(f"{name} is empty: a metric needs at least one row")
    _finite(array, name)
    return array


def same_length(first: Sequence[object], second: Sequence[object], names: tuple[str, str]) -> None:
    """Raise unless two per-row sequences are equally long and not empty."""
    if len(first) != len(second):
        raise MetricError(f"{names[0]} has {len(first)} rows but {names[1]} has {len(second)}")
    if not first:
        raise MetricError(f"{names[0]} is empty: a metric needs at least one row")


def _finite(array: npt.NDArray[np.float64], name: str) -> None:
    bad = np.flatnonzero(~np.isfinite(array.reshape(array.shape[0], -1)).all(axis=1))
    if bad.size:
        raise MetricError(f"{name} is not a finite number in {bad.size} rows (the first is row {bad[0]})")
