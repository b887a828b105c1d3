"""A policy applied to an assessment."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Verdict(enum.StrEnum):
    """Approve, send to a person, or reject; ordered by how much they hold a model back."""

    APPROVE = "approve"
    REVIEW = "review"
    REJECT = "reject"

    @property
    def rank(self) -> int:
        """0 for approve, 1 for review, 2 for reject: the strictest reason wins."""
        return list(Verdict).index(self)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the decision is what it is: one policy rule that fired, with its evidence."""

    verdict: Verdict
    rule: str
    """The policy rule, as a dotted path into the policy (``license.deny``, ``max_severity.security``)."""
    check: str
    """The check whose result the rule judged."""
    message: str
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict and every reason for it, strictest first."""

    verdict: Verdict
    reasons: tuple[Reason, ...] = ()
