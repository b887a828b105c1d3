"""The security scan as a check of the gate."""

from __future__ import annotations

import os

from modelsteward.checks import CheckContext
from modelsteward.checks.security._context import ScanOptions
from modelsteward.checks.security._scan import scan
from modelsteward.core import CheckResult, CheckStatus, Severity, Snapshot


def run(snapshot: Snapshot, context: CheckContext) -> CheckResult:
    """Scan every file of the snapshot; fail on a high or critical finding, warn on any other or on a gap."""
    pairs = (entry.partition(":") for entry in context.allowed_globals)
    options = ScanOptions(allowed_globals=frozenset((module, name) for module, _, name in pairs if name))
    report = scan([snapshot.root], options, jobs=context.jobs or os.cpu_count() or 1)
    findings = tuple(f for file in report.files for f in file.findings)
    incomplete = [{"path": f.path, "reasons": list(f.incomplete)} for f in report.files if f.incomplete]
    highest = max((f.severity for f in findings), default=None)
    if highest is not None and highest >= Severity.HIGH:
        status = CheckStatus.FAIL
    elif findings or incomplete:
        status = CheckStatus.WARN
    else:
        status = CheckStatus.PASS
    summary = f"{len(report.files)} files scanned, {len(findings)} findings"
    if incomplete:
        summary += f", {len(incomplete)} not fully scanned"
    return CheckResult(
        check="security",
        status=status,
        findings=findings,
        data={
            "files": len(report.files),
            "incomplete": incomplete,
            "highest": highest.label if highest is not None else None,
            "counts": report.summary(),
        },
        summary=summary,
    )
