"""The shared vocabulary every practice speaks."""

from modelsteward.core.admission import Admission
from modelsteward.core.assessment import Assessment
from modelsteward.core.check import CheckResult, CheckStatus
from modelsteward.core.decision import Decision, Reason, Verdict
from modelsteward.core.finding import Finding
from modelsteward.core.manifest import FileEntry, Manifest
from modelsteward.core.severity import Severity
from modelsteward.core.snapshot import Snapshot

__all__ = [
    "Admission",
    "Assessment",
    "CheckResult",
    "CheckStatus",
    "Decision",
    "FileEntry",
    "Finding",
    "Manifest",
    "Reason",
    "Severity",
    "Snapshot",
    "Verdict",
]
