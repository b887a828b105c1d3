"""The monitor inside a server: every interval, the served version's KPIs and drift, published as gauges.

Prometheus scrapes ``/metrics`` and reads the monitor's latest values there (``steward_kpi``,
``steward_drift_score``), so dashboards and Prometheus' own alerting see what ``steward monitor`` sees.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from modelsteward.monitoring import WindowReport
from modelsteward.monitoring._rules import COLUMN_DRIFT
from modelsteward.runtime.serving._metrics import ServingMetrics


def publish(report: WindowReport, metrics: ServingMetrics) -> None:
    """Set the gauges from ``report``: each column's drift score, and every other value as a KPI named
    as alert rules name it (``error_rate``, ``latency.p99_seconds``, ``drift.share``, ...). A value the
    window could not measure (no labels, no reference) is removed, never left from an older window."""
    metrics.clear_monitored()
    for observation in report.observations():
        if observation.metric.startswith(COLUMN_DRIFT):
            metrics.set_drift(observation.metric.removeprefix(COLUMN_DRIFT), observation.value)
        else:
            metrics.set_kpi(observation.metric, observation.value)


class GaugeUpdater:
    """Measures on a thread of its own every ``every`` seconds and publishes; use as a context manager."""

    def __init__(
        self, measure: Callable[[datetime], WindowReport], metrics: ServingMetrics, *, every: float
    ) -> None:
        """``measure(now)`` measures the window ending ``now`` (the event store is read there)."""
        self._measure = measure
        self._metrics = metrics
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="steward-monitor", daemon=True)
        self._noted = ""

    def update(self, now: datetime) -> WindowReport:
        """Measure the window ending ``now`` and publish it; returns what was measured."""
        report = self._measure(now)
        publish(report, self._metrics)
        if report.drift is None and report.drift_note != self._noted:
            # Said once per reason, not every interval: a missing reference stays missing.
            self._noted = report.drift_note
            print(f"steward serve: drift is not measured: {report.drift_note}", file=sys.stderr)
        return report

    def __enter__(self) -> GaugeUpdater:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self.update(datetime.now(UTC))
            except Exception as error:  # noqa: BLE001 - the server outlives a failed measurement, and says so
                print(f"steward serve: the monitor failed: {error}", file=sys.stderr)
