"""One pass through the gate: what was admitted, what the checks found and what was decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from modelsteward.core.assessment import Assessment
from modelsteward.core.decision import Decision
from modelsteward.core.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Admission:
    """A snapshot, its assessment and the decision, as registered under ``name``."""

    name: str
    snapshot: Snapshot
    assessment: Assessment
    decision: Decision
    policy: str
    """The policy's name and digest (``example-policy sha256:...``), or ``default``."""
    created: datetime
    """When the gate decided (UTC)."""
    version: int | None = None
    """The registry version number, once registered."""
    derived_from: str | None = None
    """``NAME@VERSION`` this model was derived from (fine-tuned, quantised), if any."""
