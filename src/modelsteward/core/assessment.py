"""Every check's result for one snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from modelsteward.core.check import CheckResult


@dataclass(frozen=True, slots=True)
class Assessment:
    """The results of the checks run on one snapshot, in the order they ran."""

    results: tuple[CheckResult, ...]

    def get(self, check: str) -> CheckResult | None:
        """The result of ``check``, or None if it did not run."""
        return next((r for r in self.results if r.check == check), None)
