"""Mergeable summaries of windows of prediction events: what long ranges are answered from.

A :class:`Summary` holds exact counts (events, errors, nulls, categories under the cap), a latency
histogram on fixed log-spaced buckets (so histograms of any windows add up bucket by bucket), and per
column a capped uniform sample. :func:`merge` of the summaries of two windows equals the summary of their
union: exactly for counts, extremes, sums and histograms; in distribution for samples, which are merged
with the weights of the events each stands for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelsteward.monitoring._event import INPUT, OUTPUT

SAMPLE_SIZE = 2000
"""The most values a column's sample keeps."""
MAX_CATEGORIES = 100
"""The most categories a categorical column counts by name; the rarer ones are counted as :data:`OTHER`."""
OTHER = "__other__"
"""The category the counts beyond :data:`MAX_CATEGORIES` go to."""
GAMMA = 1.02
"""Ratio of one latency bucket's upper bound to its lower: a percentile read from the histogram lies
within ``(GAMMA - 1) / (GAMMA + 1)`` (about 1 %) of the true value."""
MIN_LATENCY_MS = 1e-3
"""Latencies below this (a microsecond) are counted in its bucket."""

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts of values on fixed log-spaced buckets.

    Bucket ``i`` holds the values in ``(GAMMA**(i-1), GAMMA**i]``.
    """

    buckets: Mapping[int, int] = field(default_factory=dict)
    """Bucket index -> how many values fell in it; buckets with none are absent."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "buckets", MappingProxyType(dict(sorted(self.buckets.items()))))

    @property
    def count(self) -> int:
        """How many values the histogram holds."""
        return sum(self.buckets.values())

    def quantile(self, q: float) -> float:
        """The ``q``-quantile (0 to 1) as the ``floor(q * (n - 1))``-th smallest value, within the
        buckets' relative error; NaN for an empty histogram."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"a quantile lies between 0 and 1 (got {q:g})")
        total = self.count
        if total == 0:
            return math.nan
        rank = math.floor(q * (total - 1))
        seen = 0
        for index, count in self.buckets.items():
            seen += count
            if seen > rank:
                return 2.0 * GAMMA**index / (GAMMA + 1.0)
        raise AssertionError("unreachable: the ranks are below the total")


@dataclass(frozen=True, slots=True)
class NumericColumn:
    """A numeric column of a window: exact counts and extremes, and a uniform sample."""

    count: int
    """Values present (not null)."""
    nulls: int
    minimum: float | None
    """None when no value is present."""
    maximum: float | None
    total: float
    """The sum of the values present."""
    sample: tuple[float, ...]
    """A uniform sample of the values present, at most :data:`SAMPLE_SIZE` of them."""


@dataclass(frozen=True, slots=True)
class CategoricalColumn:
    """A text or boolean column of a window: how often each category occurred."""

    count: int
    """Values present (not null)."""
    nulls: int
    categories: Mapping[str, int] = field(default_factory=dict)
    """Category -> occurrences, for at most :data:`MAX_CATEGORIES` (the most frequent); the rest are
    counted under :data:`OTHER`."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", MappingProxyType(dict(self.categories)))


@dataclass(frozen=True, slots=True)
class VectorColumn:
    """A vector column (embeddings, class probabilities) of a window: a uniform sample of its vectors."""

    count: int
    """Vectors present (not null)."""
    nulls: int
    sample: tuple[tuple[float, ...], ...]
    """A uniform sample of the vectors present, at most :data:`SAMPLE_SIZE` of them."""


Column = NumericColumn | CategoricalColumn | VectorColumn
"""The summary of one ``input.*`` or ``output.*`` column."""


@dataclass(frozen=True, slots=True)
class Summary:
    """What a window of events adds up to, without the events."""

    count: int = 0
    """Events in the window."""
    errors: int = 0
    """Events whose prediction failed."""
    latency: Histogram = field(default_factory=Histogram)
    """Latencies in milliseconds of the events that have one."""
    columns: Mapping[str, Column] = field(default_factory=dict)
    """Column name (``input.age``, ``output.label``) -> its summary."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", MappingProxyType(dict(sorted(self.columns.items()))))


@dataclass(frozen=True, slots=True)
class Window:
    """The summary of the events of one model version between two times."""

    model: str
    version: int
    start: datetime
    """Inclusive, with a time zone."""
    end: datetime
    """Exclusive."""
    summary: Summary


def summarise(events: pa.Table) -> Summary:
    """The summary of a table of events in the event store's columns (``error``, ``latency_ms``,
    ``input.*``, ``output.*``; any may be absent). Columns of null type are left out."""
    count = events.num_rows
    errors = 0 if "error" not in events.column_names else count - events["error"].null_count
    latency = Histogram()
    if "latency_ms" in events.column_names:
        values = pc.drop_null(events["latency_ms"]).to_numpy(zero_copy_only=False)
        latency = _histogram(np.asarray(values, dtype=np.float64))
    columns: dict[str, Column] = {}
    for name in events.column_names:
        if name.startswith((INPUT, OUTPUT)):
            column = _column(events[name])
            if column is not None:
                columns[name] = column
    return Summary(count=count, errors=errors, latency=latency, columns=columns)


def merge(a: Summary, b: Summary) -> Summary:
    """The summary of the union of the windows ``a`` and ``b`` summarise.

    Associative and commutative for counts, extremes, sums and histograms; samples are merged so that
    each value of either window is equally likely to be kept. A column one side lacks counts that side's
    events as nulls. Raises ValueError for a column that is numeric on one side and text on the other.
    """
    buckets = dict(a.latency.buckets)
    for index, count in b.latency.buckets.items():
        buckets[index] = buckets.get(index, 0) + count
    columns: dict[str, Column] = {}
    for name in sorted(set(a.columns) | set(b.columns)):
        left, right = a.columns.get(name), b.columns.get(name)
        if left is not None and right is not None:
            columns[name] = _merge_column(name, left, right)
        elif left is not None:
            columns[name] = _with_nulls(left, b.count)
        elif right is not None:
            columns[name] = _with_nulls(right, a.count)
    return Summary(
        count=a.count + b.count, errors=a.errors + b.errors, latency=Histogram(buckets), columns=columns
    )


def merge_all(summaries: Sequence[Summary]) -> Summary:
    """:func:`merge` of every summary; the empty summary for none."""
    merged = Summary()
    for summary in summaries:
        merged = merge(merged, summary)
    return merged


def to_json(summary: Summary) -> dict[str, Any]:
    """``summary`` as a JSON-ready dict (read back by :func:`from_json`)."""
    columns: dict[str, Any] = {}
    for name, column in summary.columns.items():
        if isinstance(column, NumericColumn):
            columns[name] = {
                "kind": "numeric",
                "count": column.count,
                "nulls": column.nulls,
                "min": column.minimum,
                "max": column.maximum,
                "sum": column.total,
                "sample": list(column.sample),
            }
        elif isinstance(column, CategoricalColumn):
            columns[name] = {
                "kind": "categorical",
                "count": column.count,
                "nulls": column.nulls,
                "categories": dict(column.categories),
            }
        else:
            columns[name] = {
                "kind": "vector",
                "count": column.count,
                "nulls": column.nulls,
                "sample": [list(vector) for vector in column.sample],
            }
    return {
        "count": summary.count,
        "errors": summary.errors,
        "latency": {str(index): count for index, count in summary.latency.buckets.items()},
        "columns": columns,
    }


def from_json(data: Mapping[str, Any]) -> Summary:
    """The summary :func:`to_json` wrote; raises KeyError or ValueError for anything else."""
    columns: dict[str, Column] = {}
    for name, column in data["columns"].items():
        kind = column["kind"]
        if kind == "numeric":
            columns[name] = NumericColumn(
                count=int(column["count"]),
                nulls=int(column["nulls"]),
                minimum=column["min"],
                maximum=column["max"],
                total=float(column["sum"]),
                sample=tuple(float(v) for v in column["sample"]),
            )
        elif kind == "categorical":
            categories = {str(k): int(v) for k, v in column["categories"].items()}
            columns[name] = CategoricalColumn(int(column["count"]), int(column["nulls"]), categories)
        elif kind == "vector":
            sample = tuple(tuple(float(x) for x in vector) for vector in column["sample"])
            columns[name] = VectorColumn(int(column["count"]), int(column["nulls"]), sample)
        else:
            raise ValueError(f"column {name!r} has an unknown kind {kind!r}")
    return Summary(
        count=int(data["count"]),
        errors=int(data["errors"]),
        latency=Histogram({int(index): int(count) for index, count in data["latency"].items()}),
        columns=columns,
    )


def _histogram(values: np.ndarray) -> Histogram:
    if values.size == 0:
        return Histogram()
    clipped = np.maximum(values, MIN_LATENCY_MS)
    indices = np.ceil(np.log(clipped) / math.log(GAMMA)).astype(np.int64)
    unique, counts = np.unique(indices, return_counts=True)
    return Histogram(dict(zip(unique.tolist(), counts.tolist(), strict=True)))


def _column(array: pa.ChunkedArray) -> Column | None:
    kind = array.type
    nulls = array.null_count
    present = pc.drop_null(array)
    count = len(present)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = np.asarray(present.to_numpy(zero_copy_only=False), dtype=np.float64)
        return NumericColumn(
            count=count,
            nulls=nulls,
            minimum=float(values.min()) if count else None,
            maximum=float(values.max()) if count else None,
            total=float(values.sum()),
            sample=tuple(_pick(values.tolist())),
        )
    if pa.types.is_boolean(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind):
        counts = pc.value_counts(present.cast(pa.string()))
        categories = dict(
            zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
        )
        return CategoricalColumn(count, nulls, _capped(categories))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        vectors = [tuple(float(x) for x in vector) for vector in _pick(present.to_pylist())]
        return VectorColumn(count, nulls, tuple(vectors))
    return None  # null-typed and other columns carry nothing to summarise


def _pick(values: list[_T]) -> list[_T]:
    """A uniform sample of at most :data:`SAMPLE_SIZE` of ``values``, the same for the same values."""
    if len(values) <= SAMPLE_SIZE:
        return values
    chosen = np.random.default_rng(len(values)).choice(len(values), SAMPLE_SIZE, replace=False)
    return [values[i] for i in np.sort(chosen)]


def _merge_samples(a: Sequence[_T], n_a: int, b: Sequence[_T], n_b: int) -> tuple[_T, ...]:
    """A uniform sample of the union of a population of ``n_a`` (sampled by ``a``) and one of ``n_b``.

    How many come from ``a`` is hypergeometric, as it would be drawing from the union itself.
    """
    size = min(SAMPLE_SIZE, n_a + n_b)
    if len(a) + len(b) <= size:
        return (*a, *b)
    rng = np.random.default_rng((n_a, n_b))
    from_a = int(rng.hypergeometric(n_a, n_b, size))
    left = rng.choice(len(a), from_a, replace=False)
    right = rng.choice(len(b), size - from_a, replace=False)
    return (*(a[i] for i in np.sort(left)), *(b[i] for i in np.sort(right)))


def _capped(categories: Mapping[str, int]) -> dict[str, int]:
    """At most :data:`MAX_CATEGORIES` categories by name (most frequent first, then by name), the rest
    under :data:`OTHER`."""
    named = sorted(((c, n) for c, n in categories.items() if c != OTHER), key=lambda cn: (-cn[1], cn[0]))
    kept = dict(named[:MAX_CATEGORIES])
    other = categories.get(OTHER, 0) + sum(n for _, n in named[MAX_CATEGORIES:])
    if other:
        kept[OTHER] = other
    return kept


def _with_nulls(column: Column, nulls: int) -> Column:
    if isinstance(column, NumericColumn):
        return NumericColumn(
            column.count, column.nulls + nulls, column.minimum, column.maximum, column.total, column.sample
        )
    if isinstance(column, CategoricalColumn):
        return CategoricalColumn(column.count, column.nulls + nulls, column.categories)
    return VectorColumn(column.count, column.nulls + nulls, column.sample)


def _merge_column(name: str, a: Column, b: Column) -> Column:
    count, nulls = a.count + b.count, a.nulls + b.nulls
    if isinstance(a, NumericColumn) and isinstance(b, NumericColumn):
        present = [m for m in (a.minimum, b.minimum) if m is not None]
        highest = [m for m in (a.maximum, b.maximum) if m is not None]
        return NumericColumn(
            count=count,
            nulls=nulls,
            minimum=min(present) if present else None,
            maximum=max(highest) if highest else None,
            total=a.total + b.total,
            sample=_merge_samples(a.sample, a.count, b.sample, b.count),
        )
    if isinstance(a, CategoricalColumn) and isinstance(b, CategoricalColumn):
        categories = dict(a.categories)
        for category, n in b.categories.items():
            categories[category] = categories.get(category, 0) + n
        return CategoricalColumn(count, nulls, _capped(categories))
    if isinstance(a, VectorColumn) and isinstance(b, VectorColumn):
        return VectorColumn(count, nulls, _merge_samples(a.sample, a.count, b.sample, b.count))
    raise ValueError(
        f"column {name!r} is {_KINDS[type(a)]} in one window and {_KINDS[type(b)]} in another;"
        " log it with one type"
    )


_KINDS: Mapping[type, str] = MappingProxyType(
    {NumericColumn: "numeric", CategoricalColumn: "text", VectorColumn: "a vector"}
)
