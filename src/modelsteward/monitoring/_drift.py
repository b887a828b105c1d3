"""Data drift: does a current window of a table differ materially and significantly from a reference?

Each column is compared by the method of its kind (see docs/drift.md). A column drifts when its
distance is over its threshold (the change is material) and the p-value of a test on fixed-size
subsamples is under alpha (the change is not noise). The dataset drifts when the share of
drifted columns reaches a threshold.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeAlias, get_args

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from modelsteward.monitoring import _drift_categorical, _drift_classifier, _drift_numeric
from modelsteward.monitoring._drift_measurement import Distribution, Measurement

Kind = Literal["numeric", "categorical", "text", "embedding"]
KINDS: tuple[Kind, ...] = get_args(Kind)

MAX_CATEGORIES = 100
"""A string column with at most this many distinct values is categorical, with more it is text:
the chi-square test on a subsample of 1,000 rows per window has no power over more categories."""
MIN_REPEATS = 2
"""A categorical column's values repeat: with fewer rows per distinct value on average, strings are text
(a few dozen distinct sentences are not a few dozen categories)."""


def _check_threshold(label: str, value: float) -> None:
    if not 0 <= value < float("inf"):
        raise ValueError(f"{label} must be a finite number of at least 0 (got {value})")


@dataclass(frozen=True, slots=True)
class ColumnOverride:
    """Settings for one column that replace those inferred or given for its kind."""

    kind: Kind | None = None
    """Compare the column as this kind instead of the one inferred from its type and values."""
    threshold: float | None = None
    """Distance over which the column's change is material, instead of its kind's default."""


@dataclass(frozen=True)
class DriftSettings:
    """How columns are compared and when a change counts as drift."""

    numeric_threshold: float = 0.1
    """Normalised Wasserstein distance over which a numeric column's change is material."""
    categorical_threshold: float = 0.1
    """Jensen-Shannon distance (base 2) over which a categorical column's change is material."""
    text_threshold: float = 0.55
    """Held-out domain-classifier AUC over which a text column's change is material."""
    embedding_threshold: float = 0.55
    """Held-out domain-classifier AUC over which an embedding column's change is material."""
    overrides: Mapping[str, ColumnOverride] = field(default_factory=dict)
    """Column name -> its kind or threshold, where the defaults do not fit."""
    sample: int = 1000
    """Rows drawn from each window for the significance tests and the domain classifier."""
    alpha: float = 0.05
    """A change is significant when its test's p-value is under this."""
    share: float = 0.5
    """The dataset drifts when at least this share of its compared columns drift."""
    seed: int = 0
    """Seeds the subsamples: the same tables and settings give the same report."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))
        for kind in KINDS:
            _check_threshold(f"{kind}_threshold", self.threshold(kind))
        for name, override in self.overrides.items():
            if override.kind is not None and override.kind not in KINDS:
                choices = ", ".join(KINDS)
                raise ValueError(
                    f"override for column {name!r}: kind must be one of {choices} (got {override.kind!r})"
                )
            if override.threshold is not None:
                _check_threshold(f"override for column {name!r}: threshold", override.threshold)
        if self.sample < 20:
            raise ValueError(f"sample must be at least 20 rows (got {self.sample})")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1 (got {self.alpha})")
        if not 0 < self.share <= 1:
            raise ValueError(f"share must be above 0 and at most 1 (got {self.share})")
        if self.seed < 0:
            raise ValueError(f"seed must be at least 0 (got {self.seed})")

    def threshold(self, kind: Kind) -> float:
        """The default threshold of columns of ``kind``."""
        return {
            "numeric": self.numeric_threshold,
            "categorical": self.categorical_threshold,
            "text": self.text_threshold,
            "embedding": self.embedding_threshold,
        }[kind]


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    """How one column's current window compares with its reference."""

    column: str
    kind: Kind
    method: str
    """The deciding distance: ``wasserstein`` (normalised), ``jensen_shannon``, ``domain_auc``;
    ``nulls`` when one window has no values at all."""
    score: float
    """The deciding distance's value."""
    threshold: float
    """Score over which the change is material."""
    test: str
    """The test on fixed-size subsamples: ``ks``, ``chi2``, ``mann_whitney``; empty for ``nulls``."""
    p_value: float | None
    """The test's p-value; None for ``nulls``."""
    drifted: bool
    """Score over threshold and p-value under alpha (``nulls``: values appeared or vanished)."""
    reference_nulls: int
    """Null (and, for floats, NaN) values in the reference."""
    current_nulls: int
    """Null (and, for floats, NaN) values in the current window."""
    null_shift: float
    """Current null share minus reference null share, reported whether or not the column drifted."""
    statistics: Mapping[str, float] = field(default_factory=dict)
    """Secondary statistics by name: ``psi``, ``wasserstein``, ``ks_statistic`` (numeric),
    ``chi2_statistic`` (categorical), held-out sizes (text, embedding)."""
    distribution: Distribution | None = None
    """Reference vs current shares per bin or category, for plotting; None for text and embeddings."""


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Every compared column, and whether the dataset as a whole drifted."""

    columns: tuple[ColumnDrift, ...]
    share: float
    """Drifted columns divided by compared columns."""
    drifted: bool
    """``share`` reached the settings' share threshold."""
    reference_rows: int
    current_rows: int

    def column(self, name: str) -> ColumnDrift:
        """The result for column ``name``; KeyError if it was not compared."""
        for result in self.columns:
            if result.column == name:
                return result
        raise KeyError(name)


def column_kind(field: pa.Field, column: pa.ChunkedArray) -> Kind:
    """The kind a column is compared as, from its type and, for strings, its values.

    Integers and floats are numeric; booleans and dictionaries categorical; strings categorical
    with at most ``MAX_CATEGORIES`` distinct values each seen ``MIN_REPEATS`` times on average, and
    text otherwise; lists of numbers are embeddings. Other types raise ValueError.
    """
    kind = field.type
    if pa.types.is_boolean(kind) or pa.types.is_dictionary(kind):
        return "categorical"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return "numeric"
    if _is_string(kind):
        distinct = pc.count_distinct(column, mode="only_valid").as_py()
        repeated = distinct * MIN_REPEATS <= pc.count(column).as_py()
        return "categorical" if distinct <= MAX_CATEGORIES and repeated else "text"
    if _is_vector(kind):
        return "embedding"
    raise ValueError(f"column {field.name!r} has type {kind}, which drift cannot compare")


def compare(
    reference: pa.Table,
    current: pa.Table,
    settings: DriftSettings = DriftSettings(),
    columns: Sequence[str] | None = None,
) -> DriftReport:
    """Compare ``columns`` (default: all of the reference's) of ``current`` with ``reference``.

    Raises ValueError naming the problem when a table is empty, a column is missing from either
    table, an override names an unknown column, or a column's values cannot be compared.
    """
    if reference.num_rows == 0:
        raise ValueError("the reference has no rows to compare against")
    if current.num_rows == 0:
        raise ValueError("the current window has no rows to compare")
    names = list(reference.column_names if columns is None else columns)
    if not names:
        raise ValueError("no columns to compare")
    for table, label in ((reference, "reference"), (current, "current window")):
        missing = [n for n in names if n not in table.column_names]
        if missing:
            raise ValueError(f"column(s) {', '.join(map(repr, missing))} missing from the {label}")
    unknown = [n for n in settings.overrides if n not in reference.column_names]
    if unknown:
        raise ValueError(f"overrides name column(s) {', '.join(map(repr, unknown))} not in the reference")
    results = tuple(
        _column(
            reference.schema.field(n),
            reference.column(n),
            current.schema.field(n),
            current.column(n),
            settings,
        )
        for n in names
    )
    share = sum(r.drifted for r in results) / len(results)
    return DriftReport(
        columns=results,
        share=share,
        drifted=share >= settings.share,
        reference_rows=reference.num_rows,
        current_rows=current.num_rows,
    )


def _column(
    ref_field: pa.Field,
    ref: pa.ChunkedArray,
    cur_field: pa.Field,
    cur: pa.ChunkedArray,
    settings: DriftSettings,
) -> ColumnDrift:
    name = ref_field.name
    override = settings.overrides.get(name, ColumnOverride())
    kind = override.kind or column_kind(ref_field, ref)
    threshold = settings.threshold(kind) if override.threshold is None else override.threshold
    ref_values = _values(kind, ref_field, ref)
    cur_values = _values(kind, cur_field, cur)
    ref_nulls, cur_nulls = len(ref) - _size(ref_values), len(cur) - _size(cur_values)
    null_shift = cur_nulls / len(cur) - ref_nulls / len(ref)
    if _size(ref_values) == 0 or _size(cur_values) == 0:
        # Nothing to compare on one side: values appearing or vanishing is the drift.
        appeared = _size(ref_values) != _size(cur_values)
        return ColumnDrift(
            column=name,
            kind=kind,
            method="nulls",
            score=abs(null_shift),
            threshold=0.0,
            test="",
            p_value=None,
            drifted=appeared,
            reference_nulls=ref_nulls,
            current_nulls=cur_nulls,
            null_shift=null_shift,
        )
    # Seeded by the column's name, so a column's result does not depend on which others are
    # compared, and by its values, so each new window gets fresh subsamples: with the same draws
    # every time, windows stored in the same order would share one frozen subsampling error.
    rng = np.random.default_rng(
        [settings.seed, zlib.crc32(name.encode()), _digest(ref_values), _digest(cur_values)]
    )
    measured = _measure(name, kind, ref_values, cur_values, settings.sample, rng)
    return ColumnDrift(
        column=name,
        kind=kind,
        method=measured.method,
        score=measured.score,
        threshold=threshold,
        test=measured.test,
        p_value=measured.p_value,
        drifted=measured.score > threshold and measured.p_value < settings.alpha,
        reference_nulls=ref_nulls,
        current_nulls=cur_nulls,
        null_shift=null_shift,
        statistics=measured.statistics,
        distribution=measured.distribution,
    )


_Values: TypeAlias = npt.NDArray[np.float64] | pa.ChunkedArray


def _measure(
    name: str, kind: Kind, ref: _Values, cur: _Values, sample: int, rng: np.random.Generator
) -> Measurement:
    smallest = min(_size(ref), _size(cur))
    if kind in ("text", "embedding") and smallest < _drift_classifier.MIN_ROWS:
        raise ValueError(
            f"column {name!r} has {smallest} non-null values in a window; "
            f"comparing {kind} needs at least {_drift_classifier.MIN_ROWS} in each"
        )
    if isinstance(ref, pa.ChunkedArray) and isinstance(cur, pa.ChunkedArray):
        if kind == "categorical":
            return _drift_categorical.measure(ref, cur, sample=sample, rng=rng)
        return _drift_classifier.text(ref, cur, sample=sample, rng=rng)
    if isinstance(ref, np.ndarray) and isinstance(cur, np.ndarray):
        if kind == "numeric":
            return _drift_numeric.measure(ref, cur, sample=sample, rng=rng)
        if ref.shape[1] != cur.shape[1]:
            raise ValueError(
                f"column {name!r} holds vectors of {ref.shape[1]} values in the reference "
                f"but {cur.shape[1]} in the current window"
            )
        return _drift_classifier.embedding(ref, cur, sample=sample, rng=rng)
    raise TypeError(f"column {name!r}: values of one kind arrived as two types")  # _values rules this out


def _values(kind: Kind, field: pa.Field, column: pa.ChunkedArray) -> _Values:
    """The column's non-null values in the form its kind's method takes."""
    data_type = field.type
    if kind == "numeric":
        if not (
            pa.types.is_integer(data_type)
            or pa.types.is_floating(data_type)
            or pa.types.is_boolean(data_type)
        ):
            raise ValueError(
                f"column {field.name!r} has type {data_type}, which cannot be compared as numeric"
            )
        values = pc.cast(column, pa.float64()).to_numpy()
        values = values[~np.isnan(values)]  # nulls arrive as NaN; NaN counts as missing
        if not np.isfinite(values).all():
            raise ValueError(f"column {field.name!r} holds infinite values, which have no distance")
        return values
    if kind == "categorical":
        if pa.types.is_dictionary(data_type):
            column = pc.cast(column, data_type.value_type)
        elif not (_is_string(data_type) or pa.types.is_boolean(data_type) or pa.types.is_integer(data_type)):
            raise ValueError(
                f"column {field.name!r} has type {data_type}, which cannot be compared as categorical"
            )
        return pc.drop_null(column)
    if kind == "text":
        if pa.types.is_dictionary(data_type):
            column = pc.cast(column, data_type.value_type)
        if not _is_string(column.type):
            raise ValueError(f"column {field.name!r} has type {data_type}, which cannot be compared as text")
        return pc.drop_null(column)
    if not _is_vector(data_type):
        raise ValueError(
            f"column {field.name!r} has type {data_type}, which cannot be compared as an embedding"
        )
    return _matrix(field.name, pc.drop_null(column))


def _matrix(name: str, column: pa.ChunkedArray) -> npt.NDArray[np.float64]:
    """Rows of equal-length numeric lists as a 2-D array."""
    if len(column) == 0:
        return np.empty((0, 0))
    lengths = pc.unique(pc.list_value_length(column)).to_pylist()
    if len(lengths) != 1 or not lengths[0]:
        raise ValueError(
            f"column {name!r} holds vectors of different or zero lengths ({sorted(map(str, lengths))})"
        )
    flat = pc.list_flatten(column)
    if flat.null_count:
        raise ValueError(f"column {name!r} holds vectors with null entries")
    matrix: npt.NDArray[np.float64] = pc.cast(flat, pa.float64()).to_numpy().reshape(len(column), lengths[0])
    if not np.isfinite(matrix).all():
        raise ValueError(f"column {name!r} holds vectors with NaN or infinite entries")
    return matrix


def _digest(values: _Values) -> int:
    """A checksum of the values and their order; equal values give equal checksums."""
    if isinstance(values, np.ndarray):
        return zlib.crc32(values.tobytes())
    encoded = pc.dictionary_encode(values.combine_chunks())
    digest = zlib.crc32(encoded.indices.to_numpy(zero_copy_only=False))
    if _is_string(values.type):
        # Dictionary indices follow first occurrence, the same for any window of distinct strings.
        digest = zlib.crc32(pc.utf8_length(values.combine_chunks()).to_numpy(zero_copy_only=False), digest)
    return digest


def _size(values: _Values) -> int:
    return int(values.shape[0]) if isinstance(values, np.ndarray) else len(values)


def _is_string(data_type: pa.DataType) -> bool:
    return bool(pa.types.is_string(data_type) or pa.types.is_large_string(data_type))


def _is_vector(data_type: pa.DataType) -> bool:
    lists = (
        pa.types.is_list(data_type)
        or pa.types.is_large_list(data_type)
        or pa.types.is_fixed_size_list(data_type)
    )
    return bool(
        lists and (pa.types.is_floating(data_type.value_type) or pa.types.is_integer(data_type.value_type))
    )
