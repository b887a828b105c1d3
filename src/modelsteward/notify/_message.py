"""What a notifier sends: one event, described once for every channel."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from modelsteward.core import Severity
from modelsteward.notify._urls import url_problem

SCHEMA = "modelsteward/notification"
"""The ``schema`` field of every webhook body."""
SCHEMA_VERSION = 1
"""The ``version`` field of every webhook body: raised when a field changes meaning or goes away,
never for an added field."""

_KIND = re.compile(r"[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+")


@dataclass(frozen=True, slots=True)
class Notification:
    """One event worth telling people about: an upstream revision, an advisory, an alert."""

    kind: str
    """A dotted event name, lower case: ``watch.new-revision``, ``watch.vulnerability``,
    ``alert.firing``. Notifiers filter on it."""
    title: str
    """One line, read first (a chat header, an e-mail subject)."""
    text: str
    """A few lines of plain text: what happened and what to do. May be empty."""
    subject: str
    """What the event is about, such as a model version (``org/bert@3``)."""
    at: datetime
    """When it happened; must carry a time zone."""
    severity: Severity | None = None
    """How much it matters, when the sender knows; notifiers with a ``min_severity`` drop those without."""
    facts: Mapping[str, str] = field(default_factory=dict)
    """Name -> value pairs shown as a table, in this order (the package, the advisory id, ...)."""
    link: str | None = None
    """Where to read more (an http or https URL)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Name -> value pairs that identify what the event is about (an alert's ``alertname``, ``model``,
    ``version``): receivers route and group by them. Not part of the JSON form."""
    key: str | None = None
    """The same for every notification about one ongoing thing (an alert's fingerprint), so that a
    receiver can tie a resolution to what it resolves. Not part of the JSON form."""
    since: datetime | None = None
    """When the condition this notification is about began (an alert's start), when it lasts; must
    carry a time zone. Not part of the JSON form."""

    def __post_init__(self) -> None:
        if not _KIND.fullmatch(self.kind):
            raise ValueError(
                "notification kind must be a dotted lower-case name such as watch.new-revision"
                f" (got {self.kind!r})"
            )
        if not self.title.strip() or self.title.splitlines() != [self.title]:
            raise ValueError(f"notification title must be one non-empty line (got {self.title!r})")
        if self.at.utcoffset() is None:
            raise ValueError(f"notification time must carry a time zone (got {self.at.isoformat()})")
        if self.since is not None and self.since.utcoffset() is None:
            raise ValueError(f"notification start must carry a time zone (got {self.since.isoformat()})")
        if self.link is not None and (problem := url_problem(self.link)):
            raise ValueError(f"notification link {problem}")
        # A caller's dicts stay theirs to change; the notification keeps read-only copies.
        object.__setattr__(self, "facts", MappingProxyType(dict(self.facts)))
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))

    def to_json(self) -> dict[str, object]:
        """The JSON-ready form posted by the webhook notifier, with its schema and version."""
        return {
            "schema": SCHEMA,
            "version": SCHEMA_VERSION,
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "subject": self.subject,
            "severity": None if self.severity is None else self.severity.label,
            "facts": dict(self.facts),
            "link": self.link,
            "at": timestamp(self.at),
        }

    def to_text(self) -> str:
        """A plain-text rendering: title, text, the facts aligned as a table, the link and the event."""
        width = max((len(name) for name in self.facts), default=0)
        facts = [f"{name + ':':<{width + 1}} {value}" for name, value in self.facts.items()]
        blocks = [
            self.title,
            self.text.strip(),
            "\n".join(facts),
            self.link or "",
            f"{self.kind} · {self.subject} · {timestamp(self.at)}"
            + ("" if self.severity is None else f" · severity {self.severity.label}"),
        ]
        return "\n\n".join(block for block in blocks if block) + "\n"


def timestamp(at: datetime) -> str:
    """``at`` in UTC as ISO 8601 with a ``Z``, to the second."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
