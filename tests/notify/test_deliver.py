"""deliver(): every notifier that wants a notification gets it, and one failing stops none."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from modelsteward.core import Severity
from modelsteward.notify import (
    Delivery,
    Filter,
    HttpTarget,
    Notification,
    NotifyError,
    Retry,
    WebhookNotifier,
    deliver,
)
from tests.notify.servers import http_receiver


@dataclass
class Recorder:
    """A notifier that records what it is sent, or fails with ``error``."""

    name: str
    filter: Filter = field(default_factory=Filter)
    error: str | None = None
    sent: list[Notification] = field(default_factory=list)

    def send(self, notification: Notification) -> None:
        if self.error is not None:
            raise NotifyError(self.error)
        self.sent.append(notification)


def test_one_failure_stops_none_of_the_others(notification: Notification) -> None:
    first, broken, last = Recorder("first"), Recorder("broken", error="it broke"), Recorder("last")
    assert deliver(notification, [first, broken, last]) == (
        Delivery("first", ok=True),
        Delivery("broken", ok=False, error="it broke"),
        Delivery("last", ok=True),
    )
    assert first.sent == last.sent == [notification]


@pytest.mark.parametrize(
    ("wanted", "kind", "severity", "sent"),
    [
        (Filter(), "watch.new-revision", None, True),
        (Filter(("watch.*",)), "watch.new-revision", None, True),
        (Filter(("watch.*",)), "alert.firing", Severity.HIGH, False),
        (Filter(("alert.firing", "alert.resolved")), "alert.resolved", Severity.LOW, True),
        (Filter(min_severity=Severity.MEDIUM), "watch.vulnerability", Severity.MEDIUM, True),
        (Filter(min_severity=Severity.MEDIUM), "watch.vulnerability", Severity.LOW, False),
        (Filter(min_severity=Severity.INFO), "watch.new-revision", None, False),
        (Filter(("watch.*",), Severity.HIGH), "watch.vulnerability", Severity.CRITICAL, True),
        (Filter(("watch.*",), Severity.HIGH), "alert.firing", Severity.CRITICAL, False),
    ],
)
def test_filters_by_event_and_least_severity(
    notification: Notification, wanted: Filter, kind: str, severity: Severity | None, sent: bool
) -> None:
    recorder = Recorder("r", filter=wanted)
    deliveries = deliver(dataclasses.replace(notification, kind=kind, severity=severity), [recorder])
    assert deliveries == ((Delivery("r", ok=True),) if sent else ())
    assert len(recorder.sent) == int(sent)


def test_a_failing_webhook_is_reported_without_its_token(notification: Notification) -> None:
    with http_receiver() as receiver:
        receiver.answers.append((500, {}, b""))
        failing = WebhookNotifier("hook", HttpTarget(receiver.url, retry=Retry(attempts=1)))
        other = Recorder("other")
        (failed, delivered) = deliver(notification, [failing, other])
    assert not failed.ok
    assert failed.error is not None and failed.error.endswith(
        "answered 500 Internal Server Error (tried once)"
    )
    assert "T0KEN" not in failed.error
    assert delivered == Delivery("other", ok=True)
