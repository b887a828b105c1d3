"""Model card completeness: is there a card, and does it say what the model is for, where it fails,
what it was trained on and how it was evaluated.

The public API is :func:`run`, the check of the gate, and the section names it reports.
"""

from modelsteward.checks.documentation._check import run
from modelsteward.checks.documentation._sections import SECTIONS, Section

__all__ = ["SECTIONS", "Section", "run"]
