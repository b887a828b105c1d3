"""Alertmanager's webhook payload, posted to a real local receiver and checked field by field.

The fields and their types are those Alertmanager documents for its webhook receiver
(https://prometheus.io/docs/alerting/latest/configuration/#webhook_config), payload version 4.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from modelsteward.core import Severity
from modelsteward.notify import (
    ZERO_TIME,
    Filter,
    HttpTarget,
    Notification,
    NotifyConfigError,
    Retry,
    WebhookNotifier,
    alertmanager_payload,
    notifiers_from,
    parse_config,
)
from tests.notify.servers import Receiver, http_receiver

STARTED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ENDED = datetime(2025, 3, 1, 12, 10, tzinfo=UTC)
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
# Alertmanager's documented webhook body: every key, with the type of its value.
TOP = {
    "version": str,
    "groupKey": str,
    "truncatedAlerts": int,
    "status": str,
    "receiver": str,
    "groupLabels": dict,
    "commonLabels": dict,
    "commonAnnotations": dict,
    "externalURL": str,
    "alerts": list,
}
ALERT = {
    "status": str,
    "labels": dict,
    "annotations": dict,
    "startsAt": str,
    "endsAt": str,
    "generatorURL": str,
    "fingerprint": str,
}


def _alert(kind: str, at: datetime) -> Notification:
    return Notification(
        kind=kind,
        title="p99 of org/bert@3 is 0.91 s",
        text="Latency over 0.5 s for 10 minutes.",
        subject="org/bert@3",
        at=at,
        severity=Severity.HIGH,
        facts={"rule": "HighLatency", "value": "0.91"},
        link="https://steward.example.internal/models/org/bert",
        labels={"alertname": "HighLatency", "model": "org/bert", "version": "3", "team": "search"},
        key="0123456789abcdef",
        since=STARTED,
    )


def _check_shape(payload: dict[str, object]) -> list[dict[str, object]]:
    """Every documented key, no other, each of its documented type; the alerts returned."""
    assert set(payload) == set(TOP)
    assert all(isinstance(payload[key], kind) for key, kind in TOP.items())
    assert payload["version"] == "4" and payload["status"] in ("firing", "resolved")
    alerts = payload["alerts"]
    assert isinstance(alerts, list) and alerts
    for alert in alerts:
        assert set(alert) == set(ALERT)
        assert all(isinstance(alert[key], kind) for key, kind in ALERT.items())
        assert RFC3339.fullmatch(alert["startsAt"]) and RFC3339.fullmatch(alert["endsAt"])
        assert all(isinstance(v, str) for v in [*alert["labels"].values(), *alert["annotations"].values()])
        assert "alertname" in alert["labels"]
    return alerts


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as running:
        yield running


def _hook(receiver: Receiver, secret: bytes | None = None) -> WebhookNotifier:
    target = HttpTarget(receiver.url, 5.0, Retry(attempts=1))
    return WebhookNotifier("pager", target, Filter(), secret, format="alertmanager")


def test_a_firing_alert_is_posted_as_alertmanager_would(receiver: Receiver) -> None:
    _hook(receiver).send(_alert("alert.firing", STARTED))
    (request,) = receiver.requests
    payload = json.loads(request.body)
    (alert,) = _check_shape(payload)
    assert payload["status"] == alert["status"] == "firing"
    assert payload["receiver"] == "pager"
    assert payload["groupKey"] == '{}:{alertname="HighLatency"}'
    assert payload["groupLabels"] == {"alertname": "HighLatency"}
    assert payload["truncatedAlerts"] == 0
    assert alert["labels"] == {
        "alertname": "HighLatency",
        "severity": "high",
        "subject": "org/bert@3",
        "model": "org/bert",
        "version": "3",
        "team": "search",
    }
    assert payload["commonLabels"] == alert["labels"]
    assert alert["annotations"] == {
        "summary": "p99 of org/bert@3 is 0.91 s",
        "description": "Latency over 0.5 s for 10 minutes.",
        "rule": "HighLatency",
        "value": "0.91",
    }
    assert payload["commonAnnotations"] == alert["annotations"]
    assert (alert["startsAt"], alert["endsAt"]) == ("2025-03-01T12:00:00Z", ZERO_TIME)
    assert alert["generatorURL"] == "https://steward.example.internal/models/org/bert"
    assert alert["fingerprint"] == "0123456789abcdef"
    assert request.headers["X-Steward-Event"] == "alert.firing"


def test_a_resolved_alert_ends_when_it_resolved_and_keeps_its_fingerprint(receiver: Receiver) -> None:
    _hook(receiver).send(_alert("alert.resolved", ENDED))
    (alert,) = _check_shape(json.loads(receiver.requests[0].body))
    assert alert["status"] == "resolved"
    assert (alert["startsAt"], alert["endsAt"]) == ("2025-03-01T12:00:00Z", "2025-03-01T12:10:00Z")
    assert alert["fingerprint"] == "0123456789abcdef"


def test_the_alertmanager_form_is_signed_like_the_default_one(receiver: Receiver) -> None:
    _hook(receiver, b"secret").send(_alert("alert.firing", STARTED))
    (request,) = receiver.requests
    stamp = request.headers["X-Steward-Timestamp"]
    mac = hmac.new(b"secret", stamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Steward-Signature"] == f"sha256={mac}"


def test_any_notification_has_a_payload_with_labels_from_its_kind_and_a_stable_fingerprint() -> None:
    note = Notification("watch.new-revision", "org/bert has a new revision", "", "org/bert", STARTED)
    payload = alertmanager_payload(note, receiver="r")
    (alert,) = _check_shape(payload)
    assert alert["labels"] == {"alertname": "watch.new-revision", "subject": "org/bert"}
    assert alert["annotations"] == {"summary": "org/bert has a new revision"}
    assert (alert["status"], alert["startsAt"], alert["generatorURL"]) == (
        "firing",
        "2025-03-01T12:00:00Z",
        "",
    )
    assert alert["fingerprint"] == alertmanager_payload(note, receiver="other")["alerts"][0]["fingerprint"]  # type: ignore[index]
    assert re.fullmatch(r"[0-9a-f]{16}", str(alert["fingerprint"]))


def test_the_format_is_chosen_in_the_notifications_file() -> None:
    text = (
        "notifiers:\n"
        "  - {kind: webhook, url: 'https://hooks.example.internal/a', format: alertmanager}\n"
        "  - {kind: webhook, url: 'https://hooks.example.internal/b'}\n"
    )
    chosen, default = notifiers_from(parse_config(text, filename="notify.yaml"), {})
    assert isinstance(chosen, WebhookNotifier) and chosen.format == "alertmanager"
    assert isinstance(default, WebhookNotifier) and default.format == "modelsteward"
    with pytest.raises(
        NotifyConfigError, match=r"n:2:57: notifiers\[0\]\.format must be one of modelsteward, alertmanager"
    ):
        parse_config(
            "notifiers:\n  - {kind: webhook, url: 'https://h.example/a', format: prom}\n", filename="n"
        )


def test_a_start_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="start must carry a time zone"):
        Notification("alert.firing", "t", "", "s", STARTED, since=datetime(2025, 3, 1))
