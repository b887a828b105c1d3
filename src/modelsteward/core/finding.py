"""One observation a check makes about a snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from modelsteward.core.severity import Severity


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation a check makes about a file of a snapshot."""

    rule: str
    """Stable identifier, documented in docs/rules.md (e.g. ``PICKLE-GLOBAL-DENIED``)."""
    severity: Severity
    message: str
    """One sentence a reviewer can act on."""
    path: str
    """File inside the snapshot (or as given on the command line)."""
    location: str = ""
    """Where inside the file: archive member, opcode offset, JSON pointer; ``>`` joins levels."""
    evidence: str = ""
    """The bytes or names that triggered the rule, shortened for display."""
