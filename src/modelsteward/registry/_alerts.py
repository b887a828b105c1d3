"""What the registry keeps of the monitor's alerts: one row per fingerprint, its state, and who was told.

The registry stores and finds; evaluating rules against observations is the monitor's work
(:mod:`modelsteward.monitoring`), handed back here as the alerts' new states.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from modelsteward.core import Severity
from modelsteward.registry import _audit
from modelsteward.registry._schema import AlertRow
from modelsteward.registry._values import Alert, AlertState, RegistryInputError

_CHUNK = 500
"""Fingerprints per ``IN (...)``: well under every database's limit on bound parameters."""
_TOLD = (AlertState.FIRING, AlertState.RESOLVED)


def stored(session: Session, state: AlertState | None = None) -> list[Alert]:
    """Every alert on record (in ``state`` only, when given), by rule and fingerprint."""
    query = select(AlertRow).order_by(AlertRow.rule, AlertRow.fingerprint)
    if state is not None:
        query = query.where(AlertRow.state == state.value)
    return [_alert(row) for row in session.scalars(query)]


def record(session: Session, alerts: Sequence[Alert], *, now: datetime, actor: str) -> tuple[Alert, ...]:
    """Store ``alerts`` over what is on record, and audit each that fired or resolved by this change.

    The change is judged against the stored state, not the caller's: two monitors that evaluated the
    same old states audit (and then tell) each transition once.
    """
    fingerprints = [alert.fingerprint for alert in alerts]
    if len(set(fingerprints)) != len(fingerprints):
        raise RegistryInputError("alerts to record must each have their own fingerprint")
    rows = {row.fingerprint: row for row in _rows(session, fingerprints)}
    changed: list[Alert] = []
    for alert in alerts:
        row = rows.get(alert.fingerprint)
        before = None if row is None else AlertState(row.state)
        if row is None:
            row = AlertRow(fingerprint=alert.fingerprint)
            session.add(row)
        # Who was told stays the registry's to say: mark_notified sets it, a new state never does.
        _fill(row, alert)
        if alert.state in _TOLD and alert.state != before:
            changed.append(_alert(row))
    if changed:
        entries = [(f"alert.{alert.state.value}", _subject(alert), _payload(alert)) for alert in changed]
        _audit.append_many(session, at=now, actor=actor, entries=entries)
    return tuple(changed)


def mark_notified(session: Session, told: Iterable[Alert]) -> None:
    """Record that people were told of ``told`` in the state each had, unless it has moved on since."""
    for alert in told:
        session.execute(
            update(AlertRow)
            .where(AlertRow.fingerprint == alert.fingerprint, AlertRow.state == alert.state.value)
            .values(notified=alert.state.value)
        )


def _rows(session: Session, fingerprints: Sequence[str]) -> Iterator[AlertRow]:
    for start in range(0, len(fingerprints), _CHUNK):
        chunk = fingerprints[start : start + _CHUNK]
        yield from session.scalars(select(AlertRow).where(AlertRow.fingerprint.in_(chunk)))


def _fill(row: AlertRow, alert: Alert) -> None:
    row.rule = alert.rule
    row.labels = dict(alert.labels)
    row.annotations = dict(alert.annotations)
    row.severity = alert.severity.label
    row.state = alert.state.value
    row.value = alert.value
    row.active_since = alert.active_since
    row.fired_at = alert.fired_at
    row.resolved_at = alert.resolved_at
    row.observed_at = alert.observed_at
    row.evaluated_at = alert.evaluated_at


def _alert(row: AlertRow) -> Alert:
    return Alert(
        fingerprint=row.fingerprint,
        rule=row.rule,
        labels=row.labels,
        annotations=row.annotations,
        severity=Severity.parse(row.severity),
        state=AlertState(row.state),
        value=row.value,
        active_since=row.active_since,
        fired_at=row.fired_at,
        resolved_at=row.resolved_at,
        observed_at=row.observed_at,
        evaluated_at=row.evaluated_at,
        notified=None if row.notified is None else AlertState(row.notified),
    )


def _subject(alert: Alert) -> str:
    """The model version the alert is about (``org/bert@3``), or its rule when it names none."""
    model, version = alert.labels.get("model"), alert.labels.get("version")
    return alert.rule if model is None else f"{model}@{version}" if version else model


def _payload(alert: Alert) -> Mapping[str, Any]:
    return {
        "fingerprint": alert.fingerprint,
        "rule": alert.rule,
        "severity": alert.severity.label,
        "value": alert.value,
        "labels": dict(alert.labels),
        "active_since": _iso(alert.active_since),
        "fired_at": _iso(alert.fired_at),
        "resolved_at": _iso(alert.resolved_at),
    }


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
