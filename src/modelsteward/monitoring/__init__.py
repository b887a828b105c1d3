"""Monitoring: prediction events, their columnar store, drift and KPIs per window, and alerts.

See docs/events.md (events, the store, the SDK), docs/drift.md, docs/alerts.md and docs/monitoring.md.
"""

from modelsteward.monitoring._alerting import apply as apply_alert_rules
from modelsteward.monitoring._alerts import Evaluation as AlertEvaluation
from modelsteward.monitoring._alerts import Observation
from modelsteward.monitoring._alerts import evaluate as evaluate_alert_rules
from modelsteward.monitoring._drift import ColumnDrift, ColumnOverride, DriftReport, DriftSettings, compare
from modelsteward.monitoring._drift_file import DriftSettingsError, load_drift_settings, parse_drift_settings
from modelsteward.monitoring._event import Event, Value
from modelsteward.monitoring._ingest import IngestError, read_events, read_labels
from modelsteward.monitoring._kpi import WindowKpis, kpis
from modelsteward.monitoring._monitor import (
    MonitorError,
    Reference,
    WindowReport,
    measure,
    observe,
    observe_for_rules,
    reference_table,
    window_report,
)
from modelsteward.monitoring._rules import AlertRule, RulesError, load_rules
from modelsteward.monitoring._sdk import EventLogger, flush, log, log_label
from modelsteward.monitoring._store import EventStore
from modelsteward.monitoring._timeline import Timeline, timeline

__all__ = [
    "AlertEvaluation",
    "AlertRule",
    "ColumnDrift",
    "ColumnOverride",
    "DriftReport",
    "DriftSettings",
    "DriftSettingsError",
    "Event",
    "EventLogger",
    "EventStore",
    "IngestError",
    "MonitorError",
    "Observation",
    "Reference",
    "RulesError",
    "Timeline",
    "Value",
    "WindowKpis",
    "WindowReport",
    "apply_alert_rules",
    "compare",
    "evaluate_alert_rules",
    "flush",
    "kpis",
    "load_drift_settings",
    "load_rules",
    "log",
    "log_label",
    "measure",
    "observe",
    "observe_for_rules",
    "parse_drift_settings",
    "read_events",
    "read_labels",
    "reference_table",
    "timeline",
    "window_report",
]
