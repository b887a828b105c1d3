"""Alerting, end to end: evaluate rules on the monitor's observations, record the alerts, tell people.

The edge around the pure state machine (:func:`~modelsteward.monitoring._alerts.evaluate`): the states
come from the registry and go back to it, and each alert that fired or resolved goes to the notifiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from modelsteward.monitoring._alerts import Observation, evaluate
from modelsteward.monitoring._rules import AlertRule
from modelsteward.notify import Notification, Notifier, deliver
from modelsteward.registry import Alert, AlertState, Registry

_TEXT = "description"


def apply(
    registry: Registry,
    rules: Sequence[AlertRule],
    observations: Sequence[Observation],
    now: datetime,
    notifiers: Sequence[Notifier],
    *,
    actor: str = "monitor",
) -> list[Alert]:
    """Evaluate ``rules`` on ``observations`` from the stored alerts, record them, and tell people.

    Returns the alerts that fired or resolved by this evaluation (each audited). Every alert whose
    firing or resolution nobody was told of yet is then delivered, this evaluation's and those a
    failed delivery left before; it is marked as told once some notifier took it, or none wanted it,
    so a failed delivery is tried again next time, and a firing alert is told once, not on every
    evaluation.
    """
    evaluation = evaluate(rules, observations, registry.alert_states(), now)
    transitions = registry.record_alerts(evaluation.changed, actor=actor)
    told = []
    for alert in registry.alerts():
        if not alert.untold:
            continue
        delivered = deliver(notification(alert), notifiers)
        if not delivered or any(d.ok for d in delivered):
            told.append(alert)
    registry.mark_alerts_notified(told)
    return list(transitions)


def notification(alert: Alert) -> Notification:
    """The notification of a firing or resolved ``alert``: kind ``alert.firing`` or ``alert.resolved``.

    Its title is the ``summary`` annotation, its text the ``description``; the other annotations, the
    rule and the value are its facts; the alert's labels, fingerprint and start travel with it for
    receivers that route by them (:func:`~modelsteward.notify.alertmanager_payload`).
    """
    if alert.state not in (AlertState.FIRING, AlertState.RESOLVED):
        raise ValueError(
            f"alert {alert.fingerprint} is {alert.state.value}: only firing and resolved are told"
        )
    at = alert.fired_at if alert.state == AlertState.FIRING else alert.resolved_at
    summary = alert.annotations.get("summary", "").strip()
    title = summary.splitlines()[0] if summary else alert.rule
    model, version = alert.labels.get("model", ""), alert.labels.get("version", "")
    extra = {name: text for name, text in alert.annotations.items() if name not in ("summary", _TEXT)}
    return Notification(
        kind=f"alert.{alert.state.value}",
        title=title,
        text=alert.annotations.get(_TEXT, ""),
        subject=f"{model}@{version}" if model and version else model or alert.rule,
        at=at or alert.evaluated_at,
        severity=alert.severity,
        facts={"rule": alert.rule, "value": f"{alert.value:.6g}", **extra},
        labels=alert.labels,
        key=alert.fingerprint,
        since=alert.active_since,
    )
