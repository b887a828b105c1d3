"""Serving: a registered version, verified and loaded in the sandboxed worker, behind a JSON predict API.

:func:`prepare` resolves and verifies a version; :class:`SandboxedModel` runs it in a sandboxed worker;
:func:`create_app` puts it behind FastAPI with Prometheus metrics (:class:`ServingMetrics`) and an event
sink that logs every prediction (:class:`EventWriter`, sampled and redacted by :class:`EventPolicy`);
:class:`GaugeUpdater` keeps the KPI and drift gauges current.
See docs/serving.md.
"""

from modelsteward.runtime.serving._app import ServeOptions, create_app
from modelsteward.runtime.serving._deploy import Deployment, RefusedToServe, prepare
from modelsteward.runtime.serving._gauges import GaugeUpdater, publish
from modelsteward.runtime.serving._logging import EventLogFull, EventSink, EventWriter
from modelsteward.runtime.serving._metrics import ServingMetrics
from modelsteward.runtime.serving._pool import (
    DeadlineError,
    ModelError,
    ModelSpec,
    SandboxedModel,
    ServingError,
    WorkerLostError,
)
from modelsteward.runtime.serving._record import EventPolicy

__all__ = [
    "DeadlineError",
    "Deployment",
    "EventLogFull",
    "EventPolicy",
    "EventSink",
    "EventWriter",
    "GaugeUpdater",
    "ModelError",
    "ModelSpec",
    "RefusedToServe",
    "SandboxedModel",
    "ServeOptions",
    "ServingError",
    "ServingMetrics",
    "WorkerLostError",
    "create_app",
    "prepare",
    "publish",
]
