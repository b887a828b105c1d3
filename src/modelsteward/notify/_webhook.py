"""The JSON webhook: the notification's JSON form or Alertmanager's payload, posted and optionally signed."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field
from typing import Literal

from modelsteward.notify._alertmanager import alertmanager_payload
from modelsteward.notify._http import HttpTarget, json_bytes
from modelsteward.notify._message import Notification
from modelsteward.notify._notifier import Filter

WebhookFormat = Literal["modelsteward", "alertmanager"]
"""What a webhook posts: :meth:`Notification.to_json`, or :func:`alertmanager_payload`."""


@dataclass(frozen=True, slots=True)
class WebhookNotifier:
    """Posts :meth:`Notification.to_json` (or Alertmanager's payload) to a URL, signed with HMAC-SHA256
    when it has a secret."""

    name: str
    target: HttpTarget
    filter: Filter = field(default_factory=Filter)
    secret: bytes | None = field(default=None, repr=False)
    """The HMAC key shared with the receiver; None sends unsigned."""
    format: WebhookFormat = "modelsteward"

    def send(self, notification: Notification) -> None:
        """Post ``notification``; raise :class:`NotifyError` once it cannot be delivered."""
        if self.format == "alertmanager":
            data = json_bytes(alertmanager_payload(notification, receiver=self.name))
        else:
            data = json_bytes(notification.to_json())
        # The same id on every retry lets a receiver drop the duplicates a lost answer causes.
        headers = {"X-Steward-Event": notification.kind, "X-Steward-Delivery": uuid.uuid4().hex}
        if self.secret is not None:
            stamp = str(int(time.time()))
            headers["X-Steward-Timestamp"] = stamp
            headers["X-Steward-Signature"] = signature(self.secret, stamp, data)
        self.target.post(data, headers)


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` over ``<timestamp>.<body>``.

    Signing the timestamp with the body stops a captured request from being replayed later: the
    receiver rejects a timestamp too far from its clock, and cannot be fooled with a new one.
    """
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"
