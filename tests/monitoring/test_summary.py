"""Window summaries: merging the summaries of windows gives the summary of their union."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from modelsteward.monitoring._summary import (
    GAMMA,
    MAX_CATEGORIES,
    OTHER,
    SAMPLE_SIZE,
    CategoricalColumn,
    NumericColumn,
    Summary,
    VectorColumn,
    from_json,
    merge,
    merge_all,
    summarise,
    to_json,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _events(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pa.table(
        {
            "at": pa.array([T0 + timedelta(seconds=i) for i in range(n)], pa.timestamp("us", tz="UTC")),
            "latency_ms": pa.array(rng.lognormal(2.0, 1.0, size=n)),
            "error": pa.array([None if i % 7 else "boom" for i in range(n)], pa.string()),
            "input.x": pa.array([None if i % 11 == 0 else float(v) for i, v in enumerate(x)], pa.float64()),
            "input.colour": pa.array(rng.choice(["red", "green", "blue"], size=n).tolist()),
            "output.embedding": pa.array(rng.normal(size=(n, 3)).tolist(), pa.list_(pa.float32())),
        }
    )


def test_merge_of_windows_is_the_summary_of_their_union() -> None:
    whole = _events(9000, seed=1)
    parts = [whole.slice(0, 1000), whole.slice(1000, 5000), whole.slice(6000)]
    merged = merge_all([summarise(part) for part in parts])
    direct = summarise(whole)
    assert (merged.count, merged.errors) == (direct.count, direct.errors) == (9000, 1286)
    assert merged.latency == direct.latency
    x_merged, x_direct = merged.columns["input.x"], direct.columns["input.x"]
    assert isinstance(x_merged, NumericColumn) and isinstance(x_direct, NumericColumn)
    assert (x_merged.count, x_merged.nulls) == (x_direct.count, x_direct.nulls) == (8181, 819)
    assert (x_merged.minimum, x_merged.maximum) == (x_direct.minimum, x_direct.maximum)
    assert x_merged.total == pytest.approx(x_direct.total)
    assert merged.columns["input.colour"] == direct.columns["input.colour"]
    vectors = merged.columns["output.embedding"]
    assert isinstance(vectors, VectorColumn)
    assert (vectors.count, len(vectors.sample), len(vectors.sample[0])) == (9000, SAMPLE_SIZE, 3)
    # The samples are both uniform draws of the same values: one distribution.
    assert len(x_merged.sample) == len(x_direct.sample) == SAMPLE_SIZE
    assert stats.ks_2samp(x_merged.sample, x_direct.sample).pvalue > 0.001


def test_merge_is_associative_and_commutative_for_counts_and_histograms() -> None:
    a, b, c = (summarise(_events(n, seed)) for n, seed in ((300, 2), (50, 3), (700, 4)))
    left, right = merge(merge(a, b), c), merge(a, merge(b, c))
    for one, other in ((left, right), (merge(a, b), merge(b, a))):
        assert (one.count, one.errors, one.latency) == (other.count, other.errors, other.latency)
        assert one.columns["input.colour"] == other.columns["input.colour"]


def test_merged_samples_weigh_each_window_by_its_size() -> None:
    small = summarise(pa.table({"input.x": pa.array([0.0] * 1000)}))
    large = summarise(pa.table({"input.x": pa.array([1.0] * 9000)}))
    column = merge(small, large).columns["input.x"]
    assert isinstance(column, NumericColumn)
    assert len(column.sample) == SAMPLE_SIZE
    assert column.sample.count(0.0) / SAMPLE_SIZE == pytest.approx(0.1, abs=0.03)


def test_latency_percentiles_lie_within_the_buckets_relative_error() -> None:
    latencies = np.random.default_rng(5).lognormal(3.0, 1.5, size=20_000)
    histogram = summarise(pa.table({"latency_ms": latencies})).latency
    bound = (GAMMA - 1) / (GAMMA + 1)
    for q in (0.0, 0.5, 0.95, 0.99, 1.0):
        exact = float(np.quantile(latencies, q, method="lower"))
        assert abs(histogram.quantile(q) - exact) <= bound * exact * 1.0001
    assert np.isnan(Summary().latency.quantile(0.5))
    with pytest.raises(ValueError, match="between 0 and 1"):
        histogram.quantile(1.5)


def test_categories_beyond_the_cap_are_counted_as_other() -> None:
    values = [f"c{i:03d}" for i in range(MAX_CATEGORIES + 50) for _ in range(1 + (i < 10))]
    column = summarise(pa.table({"input.code": values})).columns["input.code"]
    assert isinstance(column, CategoricalColumn)
    assert len(column.categories) == MAX_CATEGORIES + 1
    assert sum(column.categories.values()) == column.count == len(values)
    assert column.categories["c000"] == 2
    assert column.categories[OTHER] == 50


def test_a_column_one_window_lacks_counts_its_events_as_nulls() -> None:
    with_x = summarise(pa.table({"input.x": [1.0, 2.0]}))
    without = summarise(pa.table({"input.y": ["a", "b", "c"]}))
    merged = merge(with_x, without)
    assert merged.columns["input.x"] == NumericColumn(2, 3, 1.0, 2.0, 3.0, (1.0, 2.0))
    assert merged.columns["input.y"] == CategoricalColumn(3, 2, {"a": 1, "b": 1, "c": 1})


def test_a_column_of_two_kinds_is_refused_by_name() -> None:
    numbers = summarise(pa.table({"input.zip": [1, 2]}))
    text = summarise(pa.table({"input.zip": ["01", "02"]}))
    with pytest.raises(ValueError, match=r"'input.zip' is numeric in one window and text in another"):
        merge(numbers, text)


def test_summaries_round_trip_through_json() -> None:
    summary = summarise(_events(500, seed=6))
    assert from_json(to_json(summary)) == summary
    with pytest.raises(ValueError, match="unknown kind"):
        from_json({**to_json(summary), "columns": {"input.x": {"kind": "sketch"}}})
