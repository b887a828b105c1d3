"""The alert state machine: observations of metrics, judged by alert rules, move alerts through their states.

Pure: the states come in (from the registry), the new states and the transitions go out. An alert is
one rule's condition on one model version (and, for drift of one column, that column), named by its
fingerprint. It is *pending* once an observation meets the condition, *firing* once the condition has
held for the rule's ``for``, *resolved* when an observation no longer meets it after it fired, and
*inactive* when it clears before it fired. A missing observation changes nothing: an alert resolves
only on an observation that clears it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from modelsteward.monitoring._rules import COLUMN_DRIFT, AlertRule
from modelsteward.registry import Alert, AlertState

DEFAULT_SUMMARY = "{metric} of {model}@{version} is {value:.4g} ({op} {threshold:g})"
"""The ``summary`` annotation of a rule that gives none."""


@dataclass(frozen=True, slots=True)
class Observation:
    """One value of one metric of one model version, computed by the monitor over one window."""

    metric: str
    """A metric name of :data:`~modelsteward.monitoring._rules.METRICS`, or ``drift.column.<column>``."""
    model: str
    version: int
    value: float
    """The metric's value; NaN (no labelled predictions for accuracy, say) is no observation."""
    at: datetime
    """The end of the window; must carry a time zone."""
    window: timedelta
    """How long the window is: only rules over a window this long judge the observation."""

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise ValueError(f"observation time must carry a time zone (got {self.at.isoformat()})")
        if self.version < 1:
            raise ValueError(f"observation of {self.model}@{self.version}: versions are numbered from 1")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What an evaluation of alert rules made of the alerts."""

    states: Mapping[str, Alert]
    """Fingerprint -> every alert, those given and those new, in its new state."""
    changed: tuple[Alert, ...]
    """The alerts new or changed by this evaluation (in their new state): what the registry records."""
    transitions: tuple[Alert, ...]
    """Each time an alert fired or resolved, in order of observation, as its state just after."""


def evaluate(
    rules: Sequence[AlertRule],
    observations: Sequence[Observation],
    states: Mapping[str, Alert],
    now: datetime,
) -> Evaluation:
    """Judge ``observations`` by ``rules``, starting from the alerts ``states`` (by fingerprint).

    Observations are applied in time order; one no newer than the last an alert was judged on is
    skipped, so evaluating the same observations twice changes nothing. ``now`` (the evaluation's
    time) must not be before any observation. Raises ValueError for rules sharing a name, a naive
    ``now`` or an observation after ``now``.
    """
    if now.utcoffset() is None:
        raise ValueError(f"evaluation time must carry a time zone (got {now.isoformat()})")
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names):
        raise ValueError("alert rules must each have their own name")
    late = next((o for o in observations if o.at > now), None)
    if late is not None:
        raise ValueError(
            f"observation of {late.metric} of {late.model}@{late.version} at {late.at.isoformat()}"
            f" is after the evaluation time {now.isoformat()}"
        )
    current = dict(states)
    changed: dict[str, Alert] = {}
    transitions: list[Alert] = []
    for observation in sorted(observations, key=lambda o: o.at):
        if not math.isfinite(observation.value):
            continue
        for rule in rules:
            if rule.window != observation.window or not rule.watches(observation.metric, observation.model):
                continue
            identity = _identity(rule, observation)
            key = fingerprint(identity)
            before = current.get(key)
            if before is not None and observation.at <= before.observed_at:
                continue
            after = _step(rule, before, observation, key, identity, now)
            if after is None or after == before:
                continue
            current[key] = changed[key] = after
            if after.state in (AlertState.FIRING, AlertState.RESOLVED) and (
                before is None or before.state != after.state
            ):
                transitions.append(after)
    return Evaluation(MappingProxyType(current), tuple(changed.values()), tuple(transitions))


def fingerprint(identity: Mapping[str, str]) -> str:
    """16 hex digits of SHA-256 over the identifying labels (``alertname``, ``model``, ``version``,
    ``column``) as canonical JSON: the same alert under any other change to its rule."""
    canonical = json.dumps(dict(identity), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _identity(rule: AlertRule, observation: Observation) -> dict[str, str]:
    labels = {"alertname": rule.name, "model": observation.model, "version": str(observation.version)}
    if observation.metric.startswith(COLUMN_DRIFT):
        labels["column"] = observation.metric.removeprefix(COLUMN_DRIFT)
    return labels


def _step(
    rule: AlertRule,
    before: Alert | None,
    observation: Observation,
    key: str,
    identity: Mapping[str, str],
    now: datetime,
) -> Alert | None:
    """The alert after ``observation``; None where there was none and the condition does not hold."""
    met = rule.breached(observation.value)
    at = observation.at
    idle = before is None or before.state in (AlertState.RESOLVED, AlertState.INACTIVE)
    if idle and not met:
        return before  # nothing holds, nothing to tell: an idle alert is not rewritten
    since: datetime | None = at
    fired: datetime | None = None
    resolved: datetime | None = None
    if before is None or idle:
        # The condition begins to hold: a new episode, fired at once when the rule waits for nothing.
        state = AlertState.FIRING if rule.hold <= timedelta(0) else AlertState.PENDING
    elif not met and before.state == AlertState.FIRING:
        state, since, fired, resolved = AlertState.RESOLVED, before.active_since, before.fired_at, at
    elif not met:
        state, since = AlertState.INACTIVE, None
    elif before.state == AlertState.PENDING:
        since = before.active_since or at
        state = AlertState.FIRING if at - since >= rule.hold else AlertState.PENDING
    else:  # firing, and still met
        state, since, fired = before.state, before.active_since, before.fired_at
    if state == AlertState.FIRING and fired is None:
        fired = at
    labels = {**identity, "severity": rule.severity.label, **rule.labels}
    values = {
        "rule": rule.name,
        "metric": observation.metric,
        "model": observation.model,
        "version": observation.version,
        "column": identity.get("column", ""),
        "value": observation.value,
        "op": rule.op,
        "threshold": rule.threshold,
    }
    templates = {"summary": DEFAULT_SUMMARY, **rule.annotations}
    annotations = {name: template.format(**values) for name, template in templates.items()}
    notified = None if before is None else before.notified
    alert = Alert(
        fingerprint=key,
        rule=rule.name,
        labels=labels,
        annotations=annotations,
        severity=rule.severity,
        state=state,
        value=observation.value,
        active_since=since,
        fired_at=fired,
        resolved_at=resolved,
        observed_at=at,
        evaluated_at=now,
        notified=notified,
    )
    if before is not None and dataclasses.replace(before, observed_at=at, evaluated_at=now) == alert:
        return before  # the same value again: nothing worth a write
    return alert
