"""A range cut into windows: KPIs and drift per window and overall, from tables built here."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from modelsteward.monitoring import DriftSettings
from modelsteward.monitoring._timeline import MAX_WINDOWS, Timeline, timeline

T0 = datetime(2026, 3, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)
SETTINGS = DriftSettings(sample=200)
PLANS = ("basic", "pro", "team")
PER_HOUR = 300


def _rows(rng: np.random.Generator, n: int, *, shifted: bool) -> dict[str, pa.Array]:
    """Inputs and outputs of ``n`` predictions; ``shifted`` moves age by 3 sd and favours one plan."""
    plans = rng.choice(PLANS, size=n, p=(0.1, 0.1, 0.8) if shifted else (0.5, 0.3, 0.2))
    return {
        "input.age": pa.array(rng.normal(43.0 if shifted else 40.0, 1.0, n)),
        "input.income": pa.array(rng.normal(50.0, 5.0, n)),
        "input.plan": pa.array(plans.tolist(), pa.string()),
        "output.label": pa.array(rng.choice(("yes", "no"), size=n).tolist(), pa.string()),
    }


def events(hours: int, *, shifted_from: int | None = None, seed: int = 1) -> pa.Table:
    """``PER_HOUR`` events in each of ``hours`` hours from T0, shifted from hour ``shifted_from`` on."""
    rng = np.random.default_rng(seed)
    parts = []
    for hour in range(hours):
        rows = _rows(rng, PER_HOUR, shifted=shifted_from is not None and hour >= shifted_from)
        seconds = np.sort(rng.uniform(0, 3600, PER_HOUR))
        at = [T0 + hour * HOUR + timedelta(seconds=float(s)) for s in seconds]
        latency = rng.gamma(2.0, 10.0 * (hour + 1), PER_HOUR)
        errors = [None if n % 10 else "boom" for n in range(PER_HOUR)]
        # Nine in ten predictions right: the label repeats the prediction, or contradicts it.
        labels = [p if n % 10 else "maybe" for n, p in enumerate(rows["output.label"].to_pylist())]
        parts.append(
            pa.table(
                {
                    "at": pa.array(at, pa.timestamp("us", tz="UTC")),
                    "latency_ms": pa.array(latency),
                    "error": pa.array(errors, pa.string()),
                    "label": pa.array(labels, pa.string()),
                    **rows,
                }
            )
        )
    return pa.concat_tables(parts)


def reference(seed: int = 2) -> pa.Table:
    return pa.table(_rows(np.random.default_rng(seed), 1000, shifted=False))


def _timeline(table: pa.Table, hours: int, *, window: timedelta = HOUR, start: datetime = T0) -> Timeline:
    return timeline(
        table,
        reference(),
        model="acme/churn",
        version=2,
        window=window,
        start=start,
        end=T0 + hours * HOUR,
        settings=SETTINGS,
    )


def test_each_window_counts_its_own_events_and_the_last_ends_with_the_range() -> None:
    table = events(8)
    shuffled = table.take(np.random.default_rng(0).permutation(table.num_rows))
    # Three-hour windows from the second hour to the eighth: the first hour left out, the last window short.
    result = _timeline(shuffled, 8, window=3 * HOUR, start=T0 + HOUR)

    assert [(w.start - T0, w.end - T0) for w in result.windows] == [
        (HOUR, 4 * HOUR),
        (4 * HOUR, 7 * HOUR),
        (7 * HOUR, 8 * HOUR),
    ]
    assert [w.kpis.count for w in result.windows] == [3 * PER_HOUR, 3 * PER_HOUR, PER_HOUR]
    assert result.windows[-1].kpis.throughput == PER_HOUR / 3600
    assert (result.overall.start, result.overall.end, result.overall.kpis.count) == (
        T0 + HOUR,
        T0 + 8 * HOUR,
        7 * PER_HOUR,
    )
    assert result.overall.kpis.error_rate == pytest.approx(0.1)
    assert result.overall.kpis.accuracy == pytest.approx(0.9)
    # Latency grows hour by hour in these events, and the windows say so in their order.
    p50 = [w.kpis.latency_p50_ms for w in result.windows]
    assert p50 == sorted(p50) and p50[0] < p50[-1] / 2


def test_a_shift_in_the_second_half_scores_higher_there_and_the_range_flags_the_shifted_columns() -> None:
    result = _timeline(events(8, shifted_from=4), 8)

    def scores(column: str) -> list[float]:
        return [w.drift.column(column).score for w in result.windows if w.drift is not None]

    age, plan, income = scores("input.age"), scores("input.plan"), scores("input.income")
    assert len(age) == 8
    assert min(age[4:]) > 5 * max(age[:4])
    assert min(plan[4:]) > 5 * max(plan[:4])
    assert [w.drift.share > 0 for w in result.windows if w.drift is not None] == [False] * 4 + [True] * 4
    overall = result.overall.drift
    assert overall is not None and overall.current_rows == 8 * PER_HOUR
    assert {c.column for c in overall.columns if c.drifted} == {"input.age", "input.plan"}
    assert max(income) < overall.column("input.income").threshold * 2
    distribution = overall.column("input.plan").distribution
    assert distribution is not None and set(distribution.labels) == set(PLANS)
    assert distribution.current[distribution.labels.index("team")] > 0.45  # half the range at 80 %


def test_windows_without_events_count_nothing_and_measure_no_drift() -> None:
    result = _timeline(events(2), 4)

    assert [w.kpis.count for w in result.windows] == [PER_HOUR, PER_HOUR, 0, 0]
    empty = result.windows[-1]
    assert empty.drift is None and empty.drift_note == "no events in the window"
    assert empty.kpis.throughput == 0 and math.isnan(empty.kpis.error_rate)
    assert result.windows[0].drift is not None
    assert result.overall.kpis.count == 2 * PER_HOUR and result.overall.drift is not None


def test_without_a_reference_only_kpis_are_measured() -> None:
    result = timeline(
        events(2),
        None,
        model="acme/churn",
        version=2,
        window=HOUR,
        start=T0,
        end=T0 + 2 * HOUR,
        settings=SETTINGS,
    )

    assert [(w.kpis.count, w.drift, w.drift_note) for w in result.windows] == [
        (PER_HOUR, None, "no reference")
    ] * 2
    assert result.overall.drift is None and result.overall.kpis.count == 2 * PER_HOUR


def test_a_range_of_more_windows_than_a_report_holds_is_refused() -> None:
    empty = events(1).slice(0, 0)
    minute = timedelta(minutes=1)
    held = timeline(
        empty,
        None,
        model="m",
        version=1,
        window=minute,
        start=T0,
        end=T0 + MAX_WINDOWS * minute,
        settings=SETTINGS,
    )
    assert len(held.windows) == MAX_WINDOWS
    with pytest.raises(ValueError, match="is 501 windows, more than the 500 a report holds"):
        timeline(
            empty,
            None,
            model="m",
            version=1,
            window=minute,
            start=T0,
            end=T0 + MAX_WINDOWS * minute + timedelta(seconds=1),
            settings=SETTINGS,
        )


@pytest.mark.parametrize(
    ("window", "start", "end", "problem"),
    [
        (HOUR, T0.replace(tzinfo=None), T0 + HOUR, "must carry a time zone"),
        (timedelta(0), T0, T0 + HOUR, "window must be longer than 0"),
        (HOUR, T0, T0, "must end after it starts"),
    ],
)
def test_bad_ranges_are_refused(window: timedelta, start: datetime, end: datetime, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        timeline(
            events(1), None, model="m", version=1, window=window, start=start, end=end, settings=SETTINGS
        )
