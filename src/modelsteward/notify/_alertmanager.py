"""Alertmanager's webhook payload: one notification as a group of one alert, for Alertmanager-style routing.

The fields are those Alertmanager posts to a ``webhook_config`` receiver (payload ``version`` 4), so a
receiver written for Alertmanager (a paging service, a chat bridge, a ticketing hook) takes
ModelSteward's notifications as they are.
"""

from __future__ import annotations

import hashlib
import json

from modelsteward.notify._message import Notification, timestamp

ZERO_TIME = "0001-01-01T00:00:00Z"
"""``endsAt`` of an alert still firing: Go's zero time, as Alertmanager sends it."""
_RESOLVED = ".resolved"


def alertmanager_payload(notification: Notification, *, receiver: str) -> dict[str, object]:
    """The webhook body Alertmanager would post to ``receiver`` for ``notification`` (version 4).

    The alert is ``resolved`` when the notification's kind ends in ``.resolved``, else ``firing``.
    Its labels are ``alertname`` (the kind, unless the notification's labels name one), ``severity``
    and ``subject``, then the notification's labels; its annotations ``summary`` (the title),
    ``description`` (the text) and the facts. ``startsAt`` is :attr:`Notification.since` (else the
    time), ``endsAt`` the time once resolved; the fingerprint is :attr:`Notification.key`, else a
    hash of the labels.
    """
    n = notification
    status = "resolved" if n.kind.endswith(_RESOLVED) else "firing"
    labels = {"alertname": n.kind}
    if n.severity is not None:
        labels["severity"] = n.severity.label
    if n.subject:
        labels["subject"] = n.subject
    labels |= n.labels
    annotations = {"summary": n.title, **({"description": n.text.strip()} if n.text.strip() else {})}
    annotations |= n.facts
    alert = {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": timestamp(n.since or n.at),
        "endsAt": timestamp(n.at) if status == "resolved" else ZERO_TIME,
        "generatorURL": n.link or "",
        "fingerprint": n.key or _fingerprint(labels),
    }
    grouped = {"alertname": labels["alertname"]}
    return {
        "version": "4",
        "groupKey": f"{{}}:{{alertname={json.dumps(labels['alertname'])}}}",
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": grouped,
        "commonLabels": dict(labels),
        "commonAnnotations": dict(annotations),
        "externalURL": "",
        "alerts": [alert],
    }


def _fingerprint(labels: dict[str, str]) -> str:
    """16 hex digits from the labels, as Alertmanager identifies an alert by its label set."""
    canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
