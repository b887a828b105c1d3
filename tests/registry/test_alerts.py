"""What the registry keeps of alerts: states by fingerprint, transitions audited, who was told."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from modelsteward.core import Severity
from modelsteward.registry import Alert, AlertState, Registry, RegistryInputError

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def _alert(
    fingerprint: str = "0123456789abcdef", state: AlertState = AlertState.FIRING, **changes: object
) -> Alert:
    alert = Alert(
        fingerprint=fingerprint,
        rule="HighLatency",
        labels={"alertname": "HighLatency", "model": "org/bert", "version": "3", "severity": "high"},
        annotations={"summary": "p99 of org/bert@3 is 0.9 s"},
        severity=Severity.HIGH,
        state=state,
        value=0.9,
        active_since=T0,
        fired_at=T0 if state in (AlertState.FIRING, AlertState.RESOLVED) else None,
        resolved_at=T0 + timedelta(minutes=5) if state == AlertState.RESOLVED else None,
        observed_at=T0,
        evaluated_at=T0 + timedelta(seconds=1),
    )
    return dataclasses.replace(alert, **changes)  # type: ignore[arg-type]


def test_alerts_are_stored_by_fingerprint_and_read_back_whole(registry: Registry) -> None:
    firing = _alert()
    pending = _alert("fedcba9876543210", AlertState.PENDING, value=0.7)
    assert registry.record_alerts([firing, pending], actor="monitor") == (firing,)
    assert registry.alert_states() == {firing.fingerprint: firing, pending.fingerprint: pending}
    assert registry.alerts(state=AlertState.PENDING) == [pending]
    back = registry.alerts(state=AlertState.FIRING)[0]
    assert back.active_since == T0 and back.active_since.tzinfo is not None
    assert back.untold


def test_firing_and_resolved_are_audited_once_each_in_the_chain(registry: Registry) -> None:
    registry.record_alerts([_alert(state=AlertState.PENDING, fired_at=None)], actor="monitor")
    assert registry.record_alerts([_alert()], actor="monitor") == (_alert(),)
    # The same state again (a later evaluation, or a second monitor with old states) is no transition.
    assert registry.record_alerts([_alert(value=0.95)], actor="monitor") == ()
    resolved = _alert(state=AlertState.RESOLVED, value=0.1)
    assert registry.record_alerts([resolved], actor="monitor") == (resolved,)
    entries = [entry for entry in registry.audit() if entry.action.startswith("alert.")]
    assert [(e.action, e.subject, e.actor) for e in entries] == [
        ("alert.firing", "org/bert@3", "monitor"),
        ("alert.resolved", "org/bert@3", "monitor"),
    ]
    assert entries[1].payload["fingerprint"] == resolved.fingerprint
    assert entries[1].payload["value"] == 0.1
    assert entries[1].payload["resolved_at"] == (T0 + timedelta(minutes=5)).isoformat()
    assert registry.verify_audit().ok


def test_pending_and_inactive_alerts_are_not_audited(registry: Registry) -> None:
    registry.record_alerts([_alert(state=AlertState.PENDING, fired_at=None)], actor="monitor")
    registry.record_alerts([_alert(state=AlertState.INACTIVE, fired_at=None, active_since=None)], actor="m")
    assert not [entry for entry in registry.audit() if entry.action.startswith("alert.")]
    assert registry.alerts()[0].state == AlertState.INACTIVE


def test_told_is_kept_per_state_and_only_while_the_state_holds(registry: Registry) -> None:
    registry.record_alerts([_alert()], actor="monitor")
    firing = registry.alerts()[0]
    registry.mark_alerts_notified([firing])
    assert registry.alerts()[0].notified == AlertState.FIRING
    assert not registry.alerts()[0].untold
    # A new state keeps who was told of the old one: the resolution is still to tell.
    registry.record_alerts([_alert(state=AlertState.RESOLVED)], actor="monitor")
    assert registry.alerts()[0].notified == AlertState.FIRING
    assert registry.alerts()[0].untold
    # Telling of a state the alert has left since marks nothing.
    registry.mark_alerts_notified([firing])
    assert registry.alerts()[0].untold


def test_bad_input_loses_nothing_stored(registry: Registry) -> None:
    registry.record_alerts([_alert()], actor="monitor")
    twice = [_alert(state=AlertState.RESOLVED), _alert(state=AlertState.RESOLVED)]
    with pytest.raises(RegistryInputError, match="own fingerprint"):
        registry.record_alerts(twice, actor="monitor")
    with pytest.raises(RegistryInputError, match="needs an actor"):
        registry.record_alerts([_alert(state=AlertState.RESOLVED)], actor=" ")
    assert registry.alerts() == [_alert()]
    assert registry.record_alerts([], actor="monitor") == ()
