"""Slack-compatible incoming webhooks: a fallback ``text`` and Block Kit ``blocks``.

Every piece of text is escaped (``&``, ``<``, ``>``): a model or package name such as
``<!channel>`` or ``<https://evil|docs>`` then shows as written instead of pinging a channel or
hiding a link. Mattermost and Rocket.Chat accept the same payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modelsteward.notify._http import HttpTarget, json_bytes
from modelsteward.notify._message import Notification, timestamp
from modelsteward.notify._notifier import Filter

# Block Kit limits, in characters (fields: per section).
_HEADER = 150
_SECTION = 3000
_FIELD = 2000
_FIELDS = 10


@dataclass(frozen=True, slots=True)
class SlackNotifier:
    """Posts :func:`slack_payload` to an incoming-webhook URL (a secret: it is the token)."""

    name: str
    target: HttpTarget
    filter: Filter = field(default_factory=Filter)

    def send(self, notification: Notification) -> None:
        """Post ``notification``; raise :class:`NotifyError` once it cannot be delivered."""
        self.target.post(json_bytes(slack_payload(notification)))


def slack_payload(notification: Notification) -> dict[str, object]:
    """The incoming-webhook JSON for ``notification``: header, text, facts as fields, context."""
    n = notification
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _fit(n.title, _HEADER), "emoji": False}}
    ]
    if n.text.strip():
        blocks.append({"type": "section", "text": _mrkdwn(_fit(n.text.strip(), _SECTION))})
    facts = [_mrkdwn(_fact(name, value)) for name, value in n.facts.items()]
    blocks += [{"type": "section", "fields": facts[i : i + _FIELDS]} for i in range(0, len(facts), _FIELDS)]
    context = [
        *([] if n.severity is None else [f"*{n.severity.label.upper()}*"]),
        escape(n.subject),
        escape(n.kind),
        timestamp(n.at),
        *([] if n.link is None else [f"<{_link_target(n.link)}|details>"]),
    ]
    blocks.append({"type": "context", "elements": [_mrkdwn(" · ".join(part for part in context if part))]})
    fallback = f"{n.title} ({n.subject})" if n.subject else n.title
    return {"text": _fit(fallback, _SECTION), "blocks": blocks}


def escape(text: str) -> str:
    """``text`` with Slack's control characters escaped, so it shows as written and links nothing."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(text: str, limit: int) -> str:
    """``text`` escaped, in at most ``limit`` characters: cut whole characters (never inside an
    entity such as ``&amp;``) and end with "…" when it does not fit."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    kept, size = [], 1  # the ellipsis
    for char in text:
        piece = escape(char)
        if size + len(piece) > limit:
            break
        kept.append(piece)
        size += len(piece)
    return "".join(kept) + "…"


def _fact(name: str, value: str) -> str:
    head = f"*{escape(name)}*\n"
    return head + _fit(value, _FIELD - len(head))


def _link_target(url: str) -> str:
    # Inside <url|label>, & is escaped and a | or > would end the URL early.
    return url.replace("&", "&amp;").replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


def _mrkdwn(text: str) -> dict[str, object]:
    return {"type": "mrkdwn", "text": text}
