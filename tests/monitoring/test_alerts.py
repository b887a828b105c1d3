"""The alert state machine, and alerting end to end: a real registry and a real webhook receiver."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modelsteward.core import Severity
from modelsteward.monitoring._alerting import apply, notification
from modelsteward.monitoring._alerts import Evaluation, Observation, evaluate, fingerprint
from modelsteward.monitoring._rules import AlertRule
from modelsteward.notify import Filter, HttpTarget, Retry, WebhookNotifier
from modelsteward.registry import Alert, AlertState, Registry
from tests.notify.servers import Receiver, http_receiver

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=5)
LATENCY = AlertRule(
    name="HighLatency",
    metric="latency.p99_seconds",
    window=WINDOW,
    op=">",
    threshold=0.5,
    hold=timedelta(minutes=10),
    severity=Severity.HIGH,
    labels={"team": "search"},
    annotations={"summary": "p99 of {model}@{version} is {value:.2f} s", "description": "over {threshold} s"},
)
DRIFT = AlertRule(name="InputDrift", metric="drift.column.*", window=WINDOW, op=">=", threshold=0.2)


def _latency(value: float, minutes: int, *, model: str = "org/bert", version: int = 3) -> Observation:
    return Observation("latency.p99_seconds", model, version, value, T0 + timedelta(minutes=minutes), WINDOW)


def _run(
    observations: Sequence[Observation],
    states: dict[str, Alert] | None = None,
    rules: Sequence[AlertRule] = (LATENCY,),
) -> Evaluation:
    now = max((o.at for o in observations), default=T0) + timedelta(seconds=1)
    return evaluate(rules, observations, states or {}, now)


def test_an_alert_is_pending_until_its_condition_held_for_the_rules_for_then_fires_once() -> None:
    first = _run([_latency(0.9, 0)])
    (pending,) = first.changed
    assert pending.state == AlertState.PENDING and first.transitions == ()
    second = _run([_latency(0.8, 5)], dict(first.states))
    assert second.changed[0].state == AlertState.PENDING
    third = _run([_latency(0.7, 10)], dict(second.states))
    (firing,) = third.transitions
    assert firing.state == AlertState.FIRING
    assert (firing.active_since, firing.fired_at) == (T0, T0 + timedelta(minutes=10))
    assert firing.fingerprint == pending.fingerprint
    later = _run([_latency(0.95, 15)], dict(third.states))
    assert later.transitions == ()
    assert later.states[firing.fingerprint].value == 0.95


def test_an_alert_resolves_when_an_observation_clears_it_and_keeps_its_start() -> None:
    rule = AlertRule(name="Errors", metric="error_rate", window=WINDOW, op=">", threshold=0.1)
    errors = [
        Observation("error_rate", "m", 1, value, T0 + timedelta(minutes=i), WINDOW)
        for i, value in enumerate([0.3, 0.2, 0.05])
    ]
    evaluation = _run(errors, rules=[rule])
    fired, resolved = evaluation.transitions
    assert fired.state == AlertState.FIRING and fired.fired_at == T0
    assert resolved.state == AlertState.RESOLVED
    assert (resolved.active_since, resolved.fired_at, resolved.resolved_at) == (
        T0,
        T0,
        T0 + timedelta(minutes=2),
    )
    again = _run(
        [Observation("error_rate", "m", 1, 0.5, T0 + timedelta(minutes=3), WINDOW)],
        dict(evaluation.states),
        [rule],
    )
    (refired,) = again.transitions
    assert refired.fingerprint == fired.fingerprint
    assert (refired.active_since, refired.fired_at, refired.resolved_at) == (
        (T0 + timedelta(minutes=3),) * 2 + (None,)
    )


def test_a_pending_alert_that_clears_goes_inactive_untold() -> None:
    evaluation = _run([_latency(0.9, 0), _latency(0.1, 5)])
    (alert,) = evaluation.changed
    assert alert.state == AlertState.INACTIVE and alert.active_since is None
    assert evaluation.transitions == () and not alert.untold


def test_a_missing_observation_resolves_nothing_and_a_replay_changes_nothing() -> None:
    rule = AlertRule(name="Slow", metric="latency.p99_seconds", window=WINDOW, op=">", threshold=0.5)
    firing = _run([_latency(0.9, 0)], rules=[rule])
    quiet = evaluate([rule], [], dict(firing.states), T0 + timedelta(hours=1))
    assert quiet.changed == () and quiet.states == firing.states
    replay = _run([_latency(0.9, 0), _latency(0.1, -5)], dict(firing.states), [rule])
    assert replay.changed == () and replay.transitions == ()


def test_only_rules_over_the_same_window_and_matching_models_judge_an_observation() -> None:
    rule = AlertRule(
        name="Slow", metric="latency.p99_seconds", window=WINDOW, op=">", threshold=0.5, model="org/*"
    )
    hourly = Observation("latency.p99_seconds", "org/bert", 1, 0.9, T0, timedelta(hours=1))
    other = _latency(0.9, 0, model="bert")
    no_value = _latency(float("nan"), 0)
    assert _run([hourly, other, no_value], rules=[rule]).changed == ()


def test_drift_of_each_column_is_its_own_alert_with_a_column_label() -> None:
    drift = [Observation(f"drift.column.{c}", "m", 2, 0.4, T0, WINDOW) for c in ("age", "income")]
    evaluation = _run([*drift, Observation("drift.share", "m", 2, 0.9, T0, WINDOW)], rules=[DRIFT])
    age, income = evaluation.transitions
    assert dict(age.labels) == {
        "alertname": "InputDrift",
        "model": "m",
        "version": "2",
        "column": "age",
        "severity": "medium",
    }
    assert income.labels["column"] == "income" and age.fingerprint != income.fingerprint
    assert age.annotations["summary"] == "drift.column.age of m@2 is 0.4 (>= 0.2)"


def test_the_fingerprint_is_the_rule_name_and_identifying_labels_only() -> None:
    (alert,) = _run([_latency(0.9, 0)]).changed
    assert alert.fingerprint == fingerprint({"alertname": "HighLatency", "model": "org/bert", "version": "3"})
    assert len(alert.fingerprint) == 16 and int(alert.fingerprint, 16) >= 0
    louder = dataclasses.replace(LATENCY, severity=Severity.CRITICAL, labels={"team": "x"})
    (same,) = _run([_latency(0.9, 0)], rules=[louder]).changed
    assert same.fingerprint == alert.fingerprint
    (other,) = _run([_latency(0.9, 0, version=4)]).changed
    assert other.fingerprint != alert.fingerprint


def test_labels_and_annotations_come_from_the_rule_with_placeholders_filled_in() -> None:
    (alert,) = _run([_latency(0.876, 0)]).changed
    assert dict(alert.labels) == {
        "alertname": "HighLatency",
        "model": "org/bert",
        "version": "3",
        "severity": "high",
        "team": "search",
    }
    assert dict(alert.annotations) == {"summary": "p99 of org/bert@3 is 0.88 s", "description": "over 0.5 s"}


def test_bad_input_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="after the evaluation time"):
        evaluate([LATENCY], [_latency(0.9, 10)], {}, T0)
    with pytest.raises(ValueError, match="own name"):
        evaluate([LATENCY, LATENCY], [], {}, T0)
    with pytest.raises(ValueError, match="time zone"):
        Observation("count", "m", 1, 1.0, datetime(2025, 1, 1), WINDOW)
    with pytest.raises(ValueError, match="numbered from 1"):
        Observation("count", "m", 0, 1.0, T0, WINDOW)


# End to end: evaluate, record, deliver, mark told.


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as running:
        yield running


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    with Registry.open(f"sqlite:///{tmp_path / 'registry.db'}") as opened:
        yield opened


def _hook(receiver: Receiver) -> WebhookNotifier:
    target = HttpTarget(receiver.url, timeout=5, retry=Retry(attempts=1))
    return WebhookNotifier("pager", target, Filter(("alert.*",)), format="alertmanager")


RULE = AlertRule(
    name="Slow", metric="latency.p99_seconds", window=WINDOW, op=">", threshold=0.5, severity=Severity.HIGH
)


def test_a_firing_alert_is_told_once_then_told_resolved(registry: Registry, receiver: Receiver) -> None:
    hook = [_hook(receiver)]
    fired = apply(registry, [RULE], [_latency(0.9, 0)], T0 + timedelta(minutes=1), hook)
    assert [a.state for a in fired] == [AlertState.FIRING]
    again = apply(registry, [RULE], [_latency(0.8, 5)], T0 + timedelta(minutes=6), hook)
    assert again == [] and len(receiver.requests) == 1
    resolved = apply(registry, [RULE], [_latency(0.1, 10)], T0 + timedelta(minutes=11), hook)
    assert [a.state for a in resolved] == [AlertState.RESOLVED]
    first, last = (json.loads(request.body) for request in receiver.requests)
    assert (first["status"], last["status"]) == ("firing", "resolved")
    assert first["alerts"][0]["fingerprint"] == last["alerts"][0]["fingerprint"] == fired[0].fingerprint
    assert last["alerts"][0]["startsAt"] == "2025-03-01T12:00:00Z"
    assert last["alerts"][0]["endsAt"] == "2025-03-01T12:10:00Z"
    assert first["alerts"][0]["labels"]["alertname"] == "Slow"
    assert [a.notified for a in registry.alerts()] == [AlertState.RESOLVED]
    actions = [(e.action, e.subject) for e in registry.audit()]
    assert actions == [("alert.firing", "org/bert@3"), ("alert.resolved", "org/bert@3")]


def test_a_failed_delivery_is_tried_again_on_the_next_evaluation(
    registry: Registry, receiver: Receiver
) -> None:
    receiver.answers.append((503, {}, b"down"))
    apply(registry, [RULE], [_latency(0.9, 0)], T0 + timedelta(minutes=1), [_hook(receiver)])
    assert registry.alerts()[0].untold
    assert apply(registry, [RULE], [], T0 + timedelta(minutes=2), [_hook(receiver)]) == []
    assert len(receiver.requests) == 2
    assert json.loads(receiver.requests[1].body)["status"] == "firing"
    assert not registry.alerts()[0].untold


def test_with_no_notifier_wanting_it_an_alert_counts_as_told(registry: Registry) -> None:
    apply(registry, [RULE], [_latency(0.9, 0)], T0 + timedelta(minutes=1), [])
    assert registry.alerts()[0].notified == AlertState.FIRING


def test_the_notification_of_an_alert_carries_its_labels_key_and_start() -> None:
    (firing,) = _run([_latency(0.9, 0)], rules=[RULE]).transitions
    note = notification(firing)
    assert (note.kind, note.subject, note.severity, note.at) == (
        "alert.firing",
        "org/bert@3",
        Severity.HIGH,
        T0,
    )
    assert note.title == "latency.p99_seconds of org/bert@3 is 0.9 (> 0.5)"
    assert (note.key, note.since, dict(note.labels)) == (firing.fingerprint, T0, dict(firing.labels))
    assert dict(note.facts) == {"rule": "Slow", "value": "0.9"}
    (pending,) = _run([_latency(0.9, 0)]).changed
    with pytest.raises(ValueError, match="only firing and resolved"):
        notification(pending)
