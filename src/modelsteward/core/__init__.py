"""The shared vocabulary every practice speaks."""

from modelsteward.core.admission import Admission
from modelsteward.core.assessment import Assessment
from modelsteward.core.check import CheckResult, CheckStatus
from modelsteward.core.component import Component, Origin
from modelsteward.core.decision import Decision, Reason, Verdict
from modelsteward.core.finding import Finding
from modelsteward.core.manifest import FileEntry, Manifest
from modelsteward.core.severity import Severity
from modelsteward.core.snapshot import Snapshot
from modelsteward.core.vulnerability import Vulnerability

__all__ = [
    "Admission",
    "Assessment",
    "CheckResult",
    "CheckStatus",
    "Component",
    "Decision",
    "FileEntry",
    "Finding",
    "Manifest",
    "Origin",
    "Reason",
    "Severity",
    "Snapshot",
    "Verdict",
    "Vulnerability",
]
