"""What one check says about a snapshot."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelsteward.core.finding import Finding
from modelsteward.core.severity import Severity


class CheckStatus(enum.StrEnum):
    """How a check came out; the policy, not the check, turns this into a decision."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    """The check could not finish (unreadable file, broken signature library): never a pass."""
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check: its status, what it found and what it measured."""

    check: str
    """The check's name: ``security``, ``integrity``, ``license``, ``documentation``, ..."""
    status: CheckStatus
    findings: tuple[Finding, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    """JSON-serialisable facts the check established (licence ids found, signature state, ...)."""
    summary: str = ""
    """One line for a reviewer."""

    def highest(self) -> Severity | None:
        """The most severe finding's severity, or None without findings."""
        return max((f.severity for f in self.findings), default=None)
