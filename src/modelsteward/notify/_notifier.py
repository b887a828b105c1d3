"""What every notifier is: a name, the events it wants, and a way to send one."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Protocol

from modelsteward.core import Severity
from modelsteward.notify._message import Notification


class NotifyError(Exception):
    """A notification that could not be delivered; the message says why and never holds a secret."""


@dataclass(frozen=True, slots=True)
class Filter:
    """Which notifications a notifier wants."""

    events: tuple[str, ...] = ("*",)
    """fnmatch patterns on :attr:`Notification.kind` (``watch.*``); one matching is enough."""
    min_severity: Severity | None = None
    """The least severity wanted; a notification without a severity is then not wanted either."""

    def accepts(self, notification: Notification) -> bool:
        """Whether ``notification`` passes both the event patterns and the severity floor."""
        if not any(fnmatchcase(notification.kind, pattern) for pattern in self.events):
            return False
        if self.min_severity is None:
            return True
        return notification.severity is not None and notification.severity >= self.min_severity


class Notifier(Protocol):
    """Somewhere notifications go: a webhook, a Slack channel, a list of e-mail recipients."""

    @property
    def name(self) -> str:
        """How deliveries and errors name it; never holds a secret."""
        ...

    @property
    def filter(self) -> Filter:
        """The notifications it wants."""
        ...

    def send(self, notification: Notification) -> None:
        """Deliver ``notification`` now; raise :class:`NotifyError` saying why it could not be."""
        ...
