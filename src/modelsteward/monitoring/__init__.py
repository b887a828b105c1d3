"""Monitoring: prediction events, their columnar store, drift and KPIs per window, and alerts.

See docs/events.md (events, the store, the SDK), docs/drift.md, docs/alerts.md and docs/monitoring.md.
"""

from modelsteward.monitoring._drift import ColumnDrift, ColumnOverride, DriftReport, DriftSettings, compare
from modelsteward.monitoring._drift_file import DriftSettingsError, load_drift_settings, parse_drift_settings
from modelsteward.monitoring._event import Event, Value
from modelsteward.monitoring._ingest import IngestError, read_events, read_labels
from modelsteward.monitoring._kpi import WindowKpis, kpis
from modelsteward.monitoring._sdk import EventLogger, flush, log, log_label
from modelsteward.monitoring._store import EventStore

__all__ = [
    "ColumnDrift",
    "ColumnOverride",
    "DriftReport",
    "DriftSettings",
    "DriftSettingsError",
    "Event",
    "EventLogger",
    "EventStore",
    "IngestError",
    "Value",
    "WindowKpis",
    "compare",
    "flush",
    "kpis",
    "load_drift_settings",
    "log",
    "log_label",
    "parse_drift_settings",
    "read_events",
    "read_labels",
]
