"""The JSON webhook against a real local receiver: body, headers, signature, retries, failures."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from modelsteward.notify import (
    SCHEMA,
    Filter,
    HttpTarget,
    Notification,
    NotifyError,
    Retry,
    WebhookNotifier,
)
from tests.notify.servers import HANG, Receiver, http_receiver

SECRET = b"shared-secret"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as running:
        yield running


def webhook(
    receiver: Receiver,
    waits: list[float],
    *,
    attempts: int = 3,
    secret: bytes | None = SECRET,
    timeout: float = 5.0,
) -> WebhookNotifier:
    target = HttpTarget(receiver.url, timeout, Retry(attempts=attempts, first_delay=0.5), sleep=waits.append)
    return WebhookNotifier("hook", target, Filter(), secret)


def test_posts_the_json_form_signed(receiver: Receiver, notification: Notification) -> None:
    webhook(receiver, []).send(notification)
    (request,) = receiver.requests
    assert request.path == "/hooks/T0KEN-s3cret"
    assert json.loads(request.body) == notification.to_json()
    assert json.loads(request.body)["schema"] == SCHEMA
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("modelsteward/")
    assert headers["X-Steward-Event"] == "watch.vulnerability"
    assert len(headers["X-Steward-Delivery"]) == 32
    # What a receiver does: recompute the HMAC over "<timestamp>.<body>" and check the clock.
    stamp = headers["X-Steward-Timestamp"]
    expected = "sha256=" + hmac.new(SECRET, stamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Steward-Signature"], expected)
    assert abs(time.time() - int(stamp)) < 60


def test_a_tampered_body_or_timestamp_fails_verification(
    receiver: Receiver, notification: Notification
) -> None:
    webhook(receiver, []).send(notification)
    (request,) = receiver.requests
    stamp, sent = request.headers["X-Steward-Timestamp"], request.headers["X-Steward-Signature"]

    def valid(stamp: str, body: bytes) -> bool:
        mac = hmac.new(SECRET, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(sent, "sha256=" + mac)

    assert valid(stamp, request.body)
    assert not valid(stamp, request.body.replace(b"high", b"low!"))
    assert not valid(str(int(stamp) + 3600), request.body)


def test_without_a_secret_nothing_is_signed(receiver: Receiver, notification: Notification) -> None:
    webhook(receiver, [], secret=None).send(notification)
    (request,) = receiver.requests
    assert "X-Steward-Signature" not in request.headers
    assert "X-Steward-Timestamp" not in request.headers


def test_retries_a_500_then_succeeds_with_the_same_delivery_id(
    receiver: Receiver, notification: Notification
) -> None:
    receiver.answers += [(500, {}, b"oops"), (503, {}, b"")]
    waits: list[float] = []
    webhook(receiver, waits).send(notification)
    assert len(receiver.requests) == 3
    assert waits == [0.5, 1.0]
    assert len({r.headers["X-Steward-Delivery"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1


def test_honours_retry_after_on_429_within_the_bound(receiver: Receiver, notification: Notification) -> None:
    receiver.answers += [(429, {"Retry-After": "7"}, b""), (429, {"Retry-After": "9999"}, b"")]
    waits: list[float] = []
    webhook(receiver, waits).send(notification)
    assert waits == [7.0, Retry().max_delay]


def test_gives_up_after_the_attempts(receiver: Receiver, notification: Notification) -> None:
    receiver.answers += [(502, {}, b"bad gateway")] * 4
    waits: list[float] = []
    with pytest.raises(NotifyError) as caught:
        webhook(receiver, waits, attempts=4).send(notification)
    assert len(receiver.requests) == 4
    assert waits == [0.5, 1.0, 2.0]
    message = str(caught.value)
    assert message.startswith("http://127.0.0.1:")
    assert message.endswith('/… answered 502 Bad Gateway: "bad gateway" (tried 4 times)')
    assert "T0KEN" not in message


def test_a_client_error_is_not_retried(receiver: Receiver, notification: Notification) -> None:
    receiver.answers.append((404, {}, b"no_service"))
    waits: list[float] = []
    with pytest.raises(NotifyError, match=r'answered 404 Not Found: "no_service"$'):
        webhook(receiver, waits).send(notification)
    assert len(receiver.requests) == 1
    assert waits == []


def test_a_redirect_is_reported_not_followed(receiver: Receiver, notification: Notification) -> None:
    receiver.answers.append((302, {"Location": receiver.url + "/elsewhere"}, b""))
    with pytest.raises(
        NotifyError, match="answered 302 Found: redirects are not followed, give the final URL"
    ):
        webhook(receiver, []).send(notification)
    assert len(receiver.requests) == 1


def test_a_receiver_that_does_not_answer_times_out(receiver: Receiver, notification: Notification) -> None:
    receiver.answers += [(HANG, {}, b""), (HANG, {}, b"")]
    started = time.monotonic()
    with pytest.raises(NotifyError, match=r"did not answer within 0.2 s \(tried 2 times\)$"):
        webhook(receiver, [], attempts=2, timeout=0.2).send(notification)
    assert time.monotonic() - started < 3
    assert len(receiver.requests) == 2


def test_an_unreachable_receiver_is_retried_then_reported(notification: Notification) -> None:
    with http_receiver() as gone:
        url = gone.url
    waits: list[float] = []
    target = HttpTarget(url, 1.0, Retry(attempts=2), sleep=waits.append)
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier("hook", target).send(notification)
    assert "cannot be reached: Connection refused (tried 2 times)" in str(caught.value)
    assert "T0KEN" not in str(caught.value)
    assert waits == [1.0]


def test_the_secret_and_url_stay_out_of_repr(receiver: Receiver) -> None:
    shown = repr(webhook(receiver, []))
    assert "shared-secret" not in shown
    assert "T0KEN" not in shown


def test_the_documented_receiver_check_accepts_a_real_request(
    receiver: Receiver, notification: Notification
) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```", doc, re.DOTALL)
    assert match is not None
    namespace: dict[str, Any] = {"hmac": hmac, "hashlib": hashlib, "time": time, "Mapping": Mapping}
    exec(match.group(1), namespace)  # noqa: S102  (our own documentation)
    webhook(receiver, []).send(notification)
    (request,) = receiver.requests
    assert namespace["verify"](SECRET, request.headers, request.body)
    assert not namespace["verify"](b"other secret", request.headers, request.body)
    assert not namespace["verify"](SECRET, request.headers, request.body + b" ")
