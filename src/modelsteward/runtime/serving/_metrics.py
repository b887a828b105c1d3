"""The served model's Prometheus metrics, in a registry of their own (never the process-global one).

Names follow the ecosystem's conventions: the ``steward_`` prefix, base units (seconds), ``_total`` on
counters. Labels stay few and bounded: model and version on every series, the route template (never the
raw path), the status class (``2xx``), an error's reason from a fixed set, a drift column or KPI name.
"""

from __future__ import annotations

from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

ErrorReason = Literal[
    "bad_request", "too_large", "timeout", "worker_crashed", "model_error", "unavailable", "event_log"
]
"""Why a request failed, as the ``reason`` label of ``steward_errors_total``."""

# From a sub-millisecond model call to a slow batch near the default timeout.
_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The media type of :meth:`ServingMetrics.render`'s text."""


class ServingMetrics:
    """The counters, histograms and gauges of one served version; the monitor sets drift and KPIs."""

    def __init__(self, model: str, version: int) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        """This server's own registry: two servers in one process never share a series."""
        common = ("model", "version")
        self._labels = (model, str(version))
        self._requests = Counter(
            "steward_requests",
            "HTTP requests answered, by route template and status class.",
            (*common, "route", "status"),
            registry=self.registry,
        )
        self._latency = Histogram(
            "steward_request_duration_seconds",
            "Seconds from receiving a request to sending its answer, by route template.",
            (*common, "route"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._model_latency = Histogram(
            "steward_model_call_duration_seconds",
            "Seconds one call into the sandboxed worker took (the bare model call).",
            common,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._errors = Counter(
            "steward_errors",
            "Failed predict requests, by reason.",
            (*common, "reason"),
            registry=self.registry,
        )
        self._predictions = Counter(
            "steward_predictions", "Rows the model answered.", common, registry=self.registry
        )
        self._restarts = Counter(
            "steward_worker_restarts",
            "Times the sandboxed worker was restarted.",
            common,
            registry=self.registry,
        )
        self._worker_up = Gauge(
            "steward_worker_up",
            "1 while the sandboxed worker holds the loaded model.",
            common,
            registry=self.registry,
        )
        self._events = Counter(
            "steward_events_written",
            "Prediction events written to the event store.",
            common,
            registry=self.registry,
        )
        self._event_failures = Counter(
            "steward_event_write_failures",
            "Prediction events the event store refused (each one is also reported on stderr).",
            common,
            registry=self.registry,
        )
        self._drift = Gauge(
            "steward_drift_score",
            "The monitor's latest drift score of one input or output column.",
            (*common, "column"),
            registry=self.registry,
        )
        self._kpi = Gauge(
            "steward_kpi", "The monitor's latest value of one KPI.", (*common, "name"), registry=self.registry
        )

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        """Count one answered request on ``route`` (a route template) and its latency."""
        self._requests.labels(*self._labels, route, f"{status // 100}xx").inc()
        self._latency.labels(*self._labels, route).observe(seconds)

    def observe_model_call(self, seconds: float, rows: int) -> None:
        """Record one successful call into the worker and the rows it answered."""
        self._model_latency.labels(*self._labels).observe(seconds)
        self._predictions.labels(*self._labels).inc(rows)

    def count_error(self, reason: ErrorReason) -> None:
        """Count one failed predict request."""
        self._errors.labels(*self._labels, reason).inc()

    def count_restart(self) -> None:
        """Count one restart of the worker."""
        self._restarts.labels(*self._labels).inc()

    def set_worker_up(self, up: bool) -> None:
        """Say whether the worker holds the loaded model."""
        self._worker_up.labels(*self._labels).set(1 if up else 0)

    def count_events(self, written: int, failed: int = 0) -> None:
        """Count events the store took and events it refused."""
        self._events.labels(*self._labels).inc(written)
        if failed:
            self._event_failures.labels(*self._labels).inc(failed)

    def clear_monitored(self) -> None:
        """Remove every drift score and KPI, before the monitor publishes a new window's values."""
        self._drift.clear()
        self._kpi.clear()

    def set_drift(self, column: str, score: float) -> None:
        """Publish the current drift score of ``column``."""
        self._drift.labels(*self._labels, column).set(score)

    def set_kpi(self, name: str, value: float) -> None:
        """Publish the current value of the KPI ``name`` (``accuracy``, ``error_rate``, ...)."""
        self._kpi.labels(*self._labels, name).set(value)

    def render(self) -> bytes:
        """Every series in Prometheus' text exposition format."""
        return generate_latest(self.registry)
