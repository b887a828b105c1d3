"""The checks of the gate: one package per practice, each a function of the snapshot and its context."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modelsteward.core import Component

if TYPE_CHECKING:
    from modelsteward.checks.dependencies import AdvisoryIndex


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check may use beyond the snapshot itself; everything comes in through here."""

    allowed_globals: frozenset[str] = frozenset()
    """``module:name`` pairs a reviewer has checked, which pickles may call (from the policy)."""
    jobs: int | None = None
    """Worker processes or threads; None means one per core."""
    trusted_keys: tuple[Path, ...] = ()
    """Public keys (PEM) of publishers whose signatures count as verified."""
    environment: tuple[Component, ...] = ()
    """The distributions installed where the model is evaluated and served (read at the edge)."""
    advisories: AdvisoryIndex | None = None
    """The advisory database to audit components against; None when none has been synced."""


__all__ = ["CheckContext"]
