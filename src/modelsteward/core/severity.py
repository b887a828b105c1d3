"""How much a finding matters."""

from __future__ import annotations

import enum


class Severity(enum.IntEnum):
    """Ordered severities; comparisons follow the order of declaration."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        """The lower-case name used in files, flags and reports."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity name, case-insensitively; raise ValueError naming the choices."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"severity must be one of {choices} (got {text!r})") from None
