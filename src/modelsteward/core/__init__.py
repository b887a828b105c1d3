"""The shared vocabulary every practice speaks."""

from modelsteward.core.finding import Finding
from modelsteward.core.severity import Severity

__all__ = ["Finding", "Severity"]
