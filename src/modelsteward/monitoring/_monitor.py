"""The monitor: KPIs and drift of a served version over a window, as observations the alert rules judge.

I/O at this edge only: events come from the event store, the reference from the evaluation data the
version was approved on (its file, checked against the digest the registry recorded) or from a stored
period of events. The measuring is :func:`~modelsteward.monitoring._kpi.kpis` and
:func:`~modelsteward.monitoring._drift.compare`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from modelsteward.evaluation._dataset import ColumnMapping, DatasetError, load_dataset
from modelsteward.monitoring._alerts import Observation
from modelsteward.monitoring._drift import ColumnDrift, DriftReport, DriftSettings, column_kind, compare
from modelsteward.monitoring._event import INPUT, OUTPUT
from modelsteward.monitoring._kpi import WindowKpis, kpis
from modelsteward.monitoring._rules import COLUMN_DRIFT, AlertRule
from modelsteward.monitoring._store import EventStore
from modelsteward.registry import AlertState, Registry, RegistryError

_INPUT_ROLES = ("text", "features")


class MonitorError(Exception):
    """The monitor cannot do what it was asked: no reference, an unreadable reference, bad times."""


@dataclass(frozen=True, slots=True)
class Reference:
    """What current windows are compared with.

    By default the evaluation data the version was approved on (its latest recorded evaluation): its
    input columns, as the server names them (``input.text``, ``input.<feature>``). Given ``start`` and
    ``end``, the version's own stored events in that period instead: inputs and outputs, so that
    prediction drift is measured too. The period is read from the event store each time, never copied,
    so retention and erasure reach it.
    """

    start: datetime | None = None
    """Inclusive; with ``end``, the reference is this period of stored events."""
    end: datetime | None = None
    """Exclusive."""
    version: int | None = None
    """Whose events the period holds; default the version monitored (a baseline version, say)."""

    def __post_init__(self) -> None:
        if (self.start is None) != (self.end is None):
            raise MonitorError("a reference period needs both its start and its end")
        if self.start is not None and self.end is not None:
            for moment in (self.start, self.end):
                if moment.utcoffset() is None:
                    raise MonitorError(f"reference times must carry a time zone (got {moment.isoformat()})")
            if self.start >= self.end:
                raise MonitorError(
                    f"the reference period must end after it starts ({self.start.isoformat()}"
                    f" .. {self.end.isoformat()})"
                )
        if self.start is None and self.version is not None:
            raise MonitorError("a reference version is given with a reference period only")

    def describe(self, model: str, version: int) -> str:
        """One line saying what the reference is, for reports and status."""
        if self.start is None or self.end is None:
            return f"the evaluation data {model}@{version} was approved on"
        return (
            f"events of {model}@{self.version or version} from {self.start.isoformat()}"
            f" to {self.end.isoformat()}"
        )


@dataclass(frozen=True, slots=True)
class WindowReport:
    """What the monitor measured of one model version over one window."""

    model: str
    version: int
    start: datetime
    end: datetime
    kpis: WindowKpis
    drift: DriftReport | None
    """None when drift was not measured; ``drift_note`` says why."""
    drift_note: str = ""
    """Why drift was not measured, or which columns it left out and why; empty when it measured all."""

    def observations(self) -> tuple[Observation, ...]:
        """The window's values as observations for the alert rules (NaN values are left out)."""
        window = self.end - self.start
        values: dict[str, float] = {
            "count": float(self.kpis.count),
            "throughput": self.kpis.throughput,
            "error_rate": self.kpis.error_rate,
            "latency.p50_seconds": self.kpis.latency_p50_ms / 1000.0,
            "latency.p95_seconds": self.kpis.latency_p95_ms / 1000.0,
            "latency.p99_seconds": self.kpis.latency_p99_ms / 1000.0,
            "accuracy": self.kpis.accuracy,
            "f1": self.kpis.f1,
        }
        if self.drift is not None:
            values["drift.share"] = self.drift.share
            values |= {f"{COLUMN_DRIFT}{column.column}": column.score for column in self.drift.columns}
        return tuple(
            Observation(metric, self.model, self.version, value, self.end, window)
            for metric, value in values.items()
            if math.isfinite(value)
        )


def reference_table(
    reference: Reference, *, model: str, version: int, store: EventStore, registry: Registry
) -> pa.Table:
    """The reference rows of ``model@version``, with the event store's column names.

    Raises MonitorError naming the problem: no evaluation recorded, its data file gone or changed since,
    no events in the period.
    """
    if reference.start is not None and reference.end is not None:
        events = store.read(
            model, version=reference.version or version, start=reference.start, end=reference.end
        )
        if events.num_rows == 0:
            raise MonitorError(f"no events of {model}@{reference.version or version} in the reference period")
        return events.select(_monitored(events))
    return _evaluation_data(registry, f"{model}@{version}")


def window_report(
    events: pa.Table,
    reference: pa.Table | None,
    *,
    model: str,
    version: int,
    start: datetime,
    end: datetime,
    settings: DriftSettings,
) -> WindowReport:
    """KPIs and, given a reference, drift of ``events`` (``model@version``'s over ``[start, end)``).

    Pure: the caller read the events and the reference. Drift is measured on the input and output
    columns the reference and the window share; a column the window cannot be compared on (too few
    values for its method, say) is left out and named in ``drift_note``. Drift is left out altogether,
    ``drift_note`` saying why, when there is no reference or no column could be compared.
    """
    measured = kpis(events, window=end - start, start=start, end=end)[0]
    drift, note = None, "no reference"
    if reference is not None:
        drift, note = _drift(reference, events, settings)
    return WindowReport(model, version, start, end, measured, drift, note)


def observe(
    store: EventStore,
    model: str,
    version: int,
    *,
    window: timedelta,
    now: datetime,
    reference: pa.Table | None,
    settings: DriftSettings,
    events: pa.Table | None = None,
) -> WindowReport:
    """:func:`window_report` of ``model@version`` over the window ``[now - window, now)``.

    ``events`` may be given when they were read already; else they are read from ``store``.
    """
    start = now - window
    if events is None:
        events = store.read(model, version=version, start=start, end=now)
    return window_report(
        events, reference, model=model, version=version, start=start, end=now, settings=settings
    )


def measure(
    store: EventStore,
    registry: Registry,
    model: str,
    version: int,
    *,
    window: timedelta,
    now: datetime,
    reference: Reference,
    settings: DriftSettings,
    events: pa.Table | None = None,
) -> WindowReport:
    """:func:`observe` against ``reference``, read for it; when the reference cannot be had, the KPIs
    are measured all the same and ``drift_note`` says why drift is not."""
    try:
        table = reference_table(reference, model=model, version=version, store=store, registry=registry)
    except MonitorError as error:
        report = observe(
            store, model, version, window=window, now=now, reference=None, settings=settings, events=events
        )
        return dataclasses.replace(report, drift_note=str(error))
    return observe(
        store, model, version, window=window, now=now, reference=table, settings=settings, events=events
    )


def observe_for_rules(
    store: EventStore,
    registry: Registry,
    rules: Sequence[AlertRule],
    *,
    now: datetime,
    reference: Reference,
    settings: DriftSettings,
    model: str | None = None,
) -> list[WindowReport]:
    """One :class:`WindowReport` per stored model version (of ``model``, or every one a rule watches)
    and per window length the rules use, ending at ``now``; drift only where a rule wants it.

    A version without events in a window is left out, unless it has an alert pending or firing (whose
    condition, a drop in traffic say, may still hold or may have cleared): a version no longer served
    is not judged for ever. A version whose reference cannot be had is still observed, without drift
    (``drift_note`` says why).
    """
    active = {
        (alert.labels.get("model"), alert.labels.get("version"))
        for alert in registry.alerts()
        if alert.state in (AlertState.PENDING, AlertState.FIRING)
    }
    reports = []
    for name, version in store.versions(model):
        wanted = [rule for rule in rules if fnmatchcase(name, rule.model)]
        for window in sorted({rule.window for rule in wanted}):
            events = store.read(name, version=version, start=now - window, end=now)
            if events.num_rows == 0 and (name, str(version)) not in active:
                continue
            if any(r.window == window and r.metric.startswith("drift.") for r in wanted):
                report = measure(
                    store,
                    registry,
                    name,
                    version,
                    window=window,
                    now=now,
                    reference=reference,
                    settings=settings,
                    events=events,
                )
            else:
                report = observe(
                    store,
                    name,
                    version,
                    window=window,
                    now=now,
                    reference=None,
                    settings=settings,
                    events=events,
                )
            reports.append(report)
    return reports


def _drift(reference: pa.Table, events: pa.Table, settings: DriftSettings) -> tuple[DriftReport | None, str]:
    if events.num_rows == 0:
        return None, "no events in the window"
    columns = [
        name
        for name in _monitored(reference)
        if pc.count(reference[name]).as_py() > 0 and _comparable(reference, name)
    ]
    if not columns:
        return None, "the reference has no input or output column with values that drift can compare"
    # A reference column the window lacks, or holds without values, is compared all the same: values
    # that vanished (a field clients stopped sending, outputs no longer given) are drift ("nulls").
    current = pa.table({name: _window_column(events, reference.schema.field(name)) for name in columns})
    # Overrides may name columns this window lacks (a field only some requests carry).
    overrides = {name: value for name, value in settings.overrides.items() if name in columns}
    settings = dataclasses.replace(settings, overrides=overrides)
    # Column by column, so that one column that cannot be compared (too few texts in a quiet window)
    # does not cost the others; each column's result does not depend on which others are compared.
    results: list[ColumnDrift] = []
    skipped: list[str] = []
    for name in columns:
        try:
            results.extend(compare(reference, current, settings, columns=[name]).columns)
        except ValueError as error:
            skipped.append(str(error))
    if not results:
        return None, "; ".join(skipped)
    share = sum(result.drifted for result in results) / len(results)
    report = DriftReport(tuple(results), share, share >= settings.share, reference.num_rows, events.num_rows)
    return report, "; ".join(f"left out: {reason}" for reason in skipped)


def _window_column(events: pa.Table, field: pa.Field) -> pa.ChunkedArray:
    """The window's column named as ``field``, of its type: all nulls when no event of the window has it
    (a file of such events has no column, or one of the null type)."""
    if field.name not in events.column_names:
        return pa.chunked_array([pa.nulls(events.num_rows, field.type)])
    column = events[field.name]
    return column.cast(field.type) if pa.types.is_null(column.type) else column


def _monitored(table: pa.Table) -> list[str]:
    return [name for name in table.column_names if name.startswith((INPUT, OUTPUT))]


def _comparable(table: pa.Table, name: str) -> bool:
    try:
        column_kind(table.schema.field(name), table[name])
    except ValueError:
        return False  # a nested output (entities, scores by class) is not a column drift measures
    return True


def _evaluation_data(registry: Registry, ref: str) -> pa.Table:
    dataset = _evaluation_dataset(registry, ref)
    columns = dataset.get("columns")
    if not isinstance(columns, dict) or not any(columns.get(role) for role in _INPUT_ROLES):
        raise MonitorError(
            f"{ref}: its evaluation record does not say which columns the model read (recorded by an"
            " older release); evaluate it again or give a reference period"
        )
    path = Path(str(dataset.get("path", "")))
    try:
        data = load_dataset(
            path,
            ColumnMapping(
                text=(columns.get("text") or [None])[0],
                features=tuple(columns["features"]) if columns.get("features") else None,
            ),
        )
    except DatasetError as error:
        raise MonitorError(f"{ref}: the evaluation data cannot be read as the reference: {error}") from None
    if data.digest != dataset.get("digest"):
        raise MonitorError(
            f"{ref}: the evaluation data {path} changed since the evaluation (then {dataset.get('digest')});"
            " give a reference period instead"
        )
    if data.mapping.text is not None:
        return pa.table({f"{INPUT}text": pa.array(data.texts(), pa.string())})
    frame = data.table[list(data.feature_names())]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.rename_columns([f"{INPUT}{name}" for name in table.column_names])


def _evaluation_dataset(registry: Registry, ref: str) -> Mapping[str, Any]:
    """The dataset entry of the evaluation the version was admitted on, else of its latest evaluation."""
    try:
        version = registry.get(ref)
        evaluations = registry.evaluations(ref)
    except RegistryError as error:
        raise MonitorError(str(error)) from None
    for check in version.record.get("checks", []):
        if check.get("check") == "performance" and isinstance(check.get("data", {}).get("dataset"), dict):
            found: Mapping[str, Any] = check["data"]["dataset"]
            return found
    if evaluations and isinstance(evaluations[-1].record.get("dataset"), dict):
        latest: Mapping[str, Any] = evaluations[-1].record["dataset"]
        return latest
    raise MonitorError(
        f"{ref} was neither evaluated at admission nor since, so there is no evaluation data to take as"
        " the reference; evaluate it (steward evaluate) or give a reference period (--reference START..END)"
    )
