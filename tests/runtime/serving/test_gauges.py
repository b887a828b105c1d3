"""The monitor inside the server: KPI and drift gauges on /metrics, measured from the served events."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from modelsteward.monitoring import DriftSettings, EventStore, WindowReport, observe
from modelsteward.runtime.serving import GaugeUpdater
from tests.runtime.serving.conftest import MakeApp
from tests.runtime.serving.server import serving


def _gauges(text: str) -> dict[tuple[str, str], float]:
    """``steward_kpi`` by name and ``steward_drift_score`` by column, from a metrics page."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in ("steward_kpi", "steward_drift_score"):
                found[sample.name, sample.labels.get("name") or sample.labels["column"]] = sample.value
    return found


def test_the_gauges_show_the_served_windows_kpis_and_drift(make_app: MakeApp, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    app = make_app("acme/churn@1")
    with serving(app) as url, httpx.Client(base_url=url) as client:
        for index, shift in enumerate((0.0,) * 4 + (3.0,) * 4):
            rows = [
                {"age": float(a) + shift, "income": float(i), "tenure": float(t)}
                for a, i, t in rng.normal(size=(50, 3))
            ]
            assert client.post("/v1/predict", json={"inputs": rows, "id": f"r{index}"}).status_code == 200
    # The server has shut down: every event is stored. The first half is the reference.
    store = EventStore(tmp_path / "events")
    events = store.read("acme/churn")
    times = events["at"].to_pylist()
    middle, end = times[200], times[-1] + timedelta(microseconds=1)
    reference = store.read("acme/churn", end=middle).select(
        [name for name in events.column_names if name.startswith(("input.", "output."))]
    )

    def measure(now: datetime) -> WindowReport:
        return observe(
            store,
            "acme/churn",
            1,
            window=now - middle,
            now=now,
            reference=reference,
            settings=DriftSettings(sample=200),
        )

    report = GaugeUpdater(measure, app.state.metrics, every=3600).update(end)
    gauges = _gauges(app.state.metrics.render().decode())
    assert gauges["steward_kpi", "count"] == report.kpis.count == 200
    assert gauges["steward_kpi", "error_rate"] == 0.0
    assert gauges["steward_kpi", "latency.p99_seconds"] == report.kpis.latency_p99_ms / 1000
    assert report.drift is not None
    assert gauges["steward_kpi", "drift.share"] == report.drift.share
    assert gauges["steward_drift_score", "input.age"] > 0.5  # shifted by three standard deviations
    assert gauges["steward_drift_score", "input.income"] < 0.1
    assert report.drift.column("input.age").drifted and not report.drift.column("input.income").drifted


def test_values_a_later_window_cannot_measure_are_removed(make_app: MakeApp, tmp_path: Path) -> None:
    app = make_app("acme/churn@1")
    with serving(app) as url, httpx.Client(base_url=url) as client:
        rows = [{"age": 0.1 * n, "income": 1.0, "tenure": 2.0} for n in range(30)]
        assert client.post("/v1/predict", json={"inputs": rows, "id": "r"}).status_code == 200
    store = EventStore(tmp_path / "events")
    events = store.read("acme/churn")
    reference = events.select(["input.age", "input.income", "input.tenure"])
    end = events["at"].to_pylist()[-1] + timedelta(microseconds=1)

    def measure(now: datetime) -> WindowReport:
        return observe(
            store,
            "acme/churn",
            1,
            window=timedelta(hours=1),
            now=now,
            reference=reference,
            settings=DriftSettings(),
        )

    updater = GaugeUpdater(measure, app.state.metrics, every=3600)
    updater.update(end)
    assert ("steward_kpi", "latency.p99_seconds") in _gauges(app.state.metrics.render().decode())
    updater.update(end + timedelta(days=1))  # a window without predictions
    gauges = _gauges(app.state.metrics.render().decode())
    assert gauges == {("steward_kpi", "count"): 0.0, ("steward_kpi", "throughput"): 0.0}
