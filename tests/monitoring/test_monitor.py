"""The monitor: references, windows, and which versions and metrics the alert rules get to judge."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from modelsteward.monitoring import (
    AlertRule,
    DriftSettings,
    Event,
    EventStore,
    MonitorError,
    Observation,
    Reference,
    apply_alert_rules,
    observe,
    observe_for_rules,
    reference_table,
    window_report,
)
from modelsteward.registry import Registry
from tests.registry._samples import register_sample

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SETTINGS = DriftSettings(sample=200)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    with Registry.open(f"sqlite:///{tmp_path / 'registry.db'}") as opened:
        yield opened


def _events(model: str, version: int, start: datetime, count: int, *, shift: float = 0.0) -> list[Event]:
    rng = np.random.default_rng(version + int(shift * 10))
    return [
        Event(
            request_id=f"{model}-{version}-{start.timestamp():.0f}-{n}",
            model=model,
            version=version,
            at=start + timedelta(seconds=n),
            inputs={"age": float(rng.normal(40 + shift, 10)), "plan": str(rng.choice(["a", "b", "c"]))},
            outputs={"label": str(n % 2)},
            latency_ms=5.0 + n % 7,
            error=None,
        )
        for n in range(count)
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"start": T0}, "needs both its start and its end"),
        ({"start": T0.replace(tzinfo=None), "end": T0 + timedelta(hours=1)}, "must carry a time zone"),
        ({"start": T0, "end": T0}, "must end after it starts"),
        ({"version": 2}, "a reference version is given with a reference period only"),
    ],
)
def test_an_inconsistent_reference_is_refused(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(MonitorError, match=message):
        Reference(**arguments)  # type: ignore[arg-type]


def test_a_period_reference_reads_inputs_and_outputs_of_the_chosen_version(
    tmp_path: Path, registry: Registry
) -> None:
    store = EventStore(tmp_path / "events")
    store.append(_events("acme/m", 1, T0, 50) + _events("acme/m", 2, T0, 30))
    period = Reference(start=T0, end=T0 + timedelta(seconds=20), version=1)
    table = reference_table(period, model="acme/m", version=2, store=store, registry=registry)
    assert table.num_rows == 20
    assert set(table.column_names) == {"input.age", "input.plan", "output.label"}
    assert period.describe("acme/m", 2).startswith("events of acme/m@1 from 2026-03-02T12:00:00+00:00")
    empty = Reference(start=T0 - timedelta(days=1), end=T0)
    with pytest.raises(MonitorError, match=r"no events of acme/m@2 in the reference period"):
        reference_table(empty, model="acme/m", version=2, store=store, registry=registry)


def test_without_an_evaluation_the_default_reference_says_what_to_do(
    tmp_path: Path, registry: Registry
) -> None:
    store = EventStore(tmp_path)
    with pytest.raises(MonitorError, match=r"no model named acme/m"):
        reference_table(Reference(), model="acme/m", version=1, store=store, registry=registry)
    register_sample(registry, "acme/m", b"weights")
    with pytest.raises(
        MonitorError, match=r"acme/m@1 was neither evaluated at admission nor since.*--reference"
    ):
        reference_table(Reference(), model="acme/m", version=1, store=store, registry=registry)


def test_a_window_yields_kpis_and_drift_as_observations(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events")
    store.append(_events("acme/m", 1, T0, 300) + _events("acme/m", 1, T0 + timedelta(hours=1), 300, shift=25))
    reference = store.read("acme/m", end=T0 + timedelta(minutes=30)).select(["input.age", "input.plan"])
    now = T0 + timedelta(hours=1, minutes=5)
    report = observe(
        store, "acme/m", 1, window=timedelta(minutes=10), now=now, reference=reference, settings=SETTINGS
    )
    assert report.kpis.count == 300 and report.start == now - timedelta(minutes=10)
    assert report.drift is not None
    assert [c.column for c in report.drift.columns if c.drifted] == ["input.age"]
    values = {o.metric: o.value for o in report.observations()}
    assert values["count"] == 300 and values["error_rate"] == 0.0
    assert values["latency.p99_seconds"] == pytest.approx(report.kpis.latency_p99_ms / 1000)
    assert values["drift.share"] == 0.5
    assert values["drift.column.input.age"] > 0.5
    assert "accuracy" not in values  # no labels arrived: NaN is no observation
    assert math.isnan(report.kpis.accuracy)
    assert {o.at for o in report.observations()} == {now}


def test_rules_get_the_versions_they_watch_with_drift_only_where_wanted(
    tmp_path: Path, registry: Registry
) -> None:
    store = EventStore(tmp_path / "events")
    now = T0 + timedelta(hours=2)
    store.append(
        _events("acme/m", 1, T0 - timedelta(days=3), 100)  # retired: no events for days
        + _events("acme/m", 2, now - timedelta(minutes=4), 200)
        + _events("other/m", 1, now - timedelta(minutes=4), 200)
    )
    rules = [
        AlertRule(
            name="Slow", metric="latency.p99_seconds", window=timedelta(minutes=5), op=">", threshold=1.0
        ),
        AlertRule(
            name="Drift",
            metric="drift.share",
            window=timedelta(hours=1),
            op=">=",
            threshold=0.5,
            model="acme/*",
        ),
    ]
    reference = Reference(start=now - timedelta(minutes=5), end=now)
    reports = observe_for_rules(store, registry, rules, now=now, reference=reference, settings=SETTINGS)
    seen = {(r.model, r.version, r.end - r.start): r for r in reports}
    assert set(seen) == {
        ("acme/m", 2, timedelta(minutes=5)),
        ("acme/m", 2, timedelta(hours=1)),
        ("other/m", 1, timedelta(minutes=5)),
    }
    assert seen["acme/m", 2, timedelta(minutes=5)].drift is None
    assert seen["acme/m", 2, timedelta(hours=1)].drift is not None
    only = observe_for_rules(
        store, registry, rules, now=now, reference=reference, settings=SETTINGS, model="other/m"
    )
    assert [(r.model, r.version) for r in only] == [("other/m", 1)]


def test_a_version_with_a_firing_alert_is_still_observed_after_its_traffic_stopped(
    tmp_path: Path, registry: Registry
) -> None:
    store = EventStore(tmp_path / "events")
    store.append(_events("acme/m", 1, T0, 50))
    quiet = AlertRule(name="NoTraffic", metric="count", window=timedelta(minutes=5), op="<", threshold=1)
    rules = [quiet]
    later = T0 + timedelta(hours=1)
    assert (
        observe_for_rules(store, registry, rules, now=later, reference=Reference(), settings=SETTINGS) == []
    )
    during = observe_for_rules(
        store, registry, rules, now=T0 + timedelta(seconds=30), reference=Reference(), settings=SETTINGS
    )
    apply_alert_rules(
        registry, rules, [o for r in during for o in r.observations()], T0 + timedelta(seconds=30), []
    )
    assert registry.alerts() == []  # traffic flowed: nothing fired
    # The alert fires on a window that had traffic no more; from then on the version is observed.
    silent = Observation("count", "acme/m", 1, 0.0, later, timedelta(minutes=5))
    apply_alert_rules(registry, rules, [silent], later, [])
    (alert,) = registry.alerts()
    assert alert.state.value == "firing"
    again = observe_for_rules(
        store, registry, rules, now=later + timedelta(minutes=5), reference=Reference(), settings=SETTINGS
    )
    assert [(r.model, r.version, r.kpis.count) for r in again] == [("acme/m", 1, 0)]


def test_a_field_that_vanishes_from_the_window_is_drift(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events")
    later = T0 + timedelta(hours=1)
    vanished = [
        Event(
            e.request_id, e.model, e.version, e.at, {"age": e.inputs["age"]}, e.outputs, e.latency_ms, e.error
        )
        for e in _events("acme/m", 1, later, 300)
    ]
    store.append(_events("acme/m", 1, T0, 300) + vanished)
    reference = store.read("acme/m", end=later).select(["input.age", "input.plan"])
    report = window_report(
        store.read("acme/m", start=later),
        reference,
        model="acme/m",
        version=1,
        start=later,
        end=later + timedelta(hours=1),
        settings=SETTINGS,
    )
    assert report.drift is not None
    plan = report.drift.column("input.plan")
    assert (plan.method, plan.drifted, plan.current_nulls, plan.null_shift) == ("nulls", True, 300, 1.0)
    assert not report.drift.column("input.age").drifted
    assert report.drift_note == ""


def test_a_column_one_window_cannot_compare_is_left_out_and_named(tmp_path: Path) -> None:
    notes = ["the printer jams on page two", "cannot log in after the update", "refund for order 1187"]
    store = EventStore(tmp_path / "events")
    reference_events = [
        Event(
            e.request_id, e.model, e.version, e.at, {**e.inputs, "note": notes[i % 3]}, e.outputs, 5.0, None
        )
        for i, e in enumerate(_events("acme/m", 1, T0, 300))
    ]
    later = T0 + timedelta(hours=1)
    # Three notes in the window: fewer than the domain classifier needs.
    window_events = [
        Event(
            e.request_id,
            e.model,
            e.version,
            e.at,
            {**e.inputs, "note": notes[0]} if i < 3 else e.inputs,
            e.outputs,
            5.0,
            None,
        )
        for i, e in enumerate(_events("acme/m", 1, later, 300, shift=25))
    ]
    store.append(reference_events + window_events)
    reference = store.read("acme/m", end=later)
    reference = reference.set_column(
        reference.schema.get_field_index("input.note"),
        "input.note",
        pa.chunked_array([[f"{note} ({n})" for n, note in enumerate(reference["input.note"].to_pylist())]]),
    )
    report = window_report(
        store.read("acme/m", start=later),
        reference.select(["input.age", "input.note"]),
        model="acme/m",
        version=1,
        start=later,
        end=later + timedelta(hours=1),
        settings=SETTINGS,
    )
    assert report.drift is not None
    assert [(c.column, c.drifted) for c in report.drift.columns] == [("input.age", True)]
    assert report.drift.share == 1.0
    assert "left out: column 'input.note' has 3 non-null values in a window" in report.drift_note
