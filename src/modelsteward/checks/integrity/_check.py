"""The integrity check of the gate: what the snapshot holds, and whether its publisher's signature holds."""

from __future__ import annotations

from modelsteward.checks import CheckContext
from modelsteward.checks.integrity._signature import SignatureReport, SignatureStatus
from modelsteward.checks.integrity._upstream import upstream_signature
from modelsteward.core import CheckResult, CheckStatus, Finding, Severity, Snapshot
from modelsteward.core.rules import load_catalogue

_RULES = {
    SignatureStatus.MISMATCH: "INTEGRITY-SIGNATURE-MISMATCH",
    SignatureStatus.INVALID: "INTEGRITY-SIGNATURE-INVALID",
    SignatureStatus.UNVERIFIED: "INTEGRITY-SIGNATURE-UNVERIFIED",
}


def run(snapshot: Snapshot, context: CheckContext) -> CheckResult:
    """Describe the snapshot's files and check the signature its publisher ships, if any.

    The files are not hashed again: the manifest was made while they were copied into the store.
    Trusted publisher keys come from ``context.trusted_keys`` (PEM public key files).
    """
    manifest = snapshot.manifest
    data = {"files": len(manifest.files), "bytes": manifest.size, "manifest_digest": manifest.digest}
    try:
        report = upstream_signature(
            snapshot.root, manifest, trusted_keys=context.trusted_keys, jobs=context.jobs
        )
    except (OSError, ValueError) as error:
        detail = f"not checked: {error}"
        return CheckResult(
            check="integrity",
            status=CheckStatus.ERROR,
            data={**data, "upstream_signature": {"status": "unverified", "path": None, "detail": detail}},
            summary=f"the upstream signature could not be checked: {error}",
        )
    findings = _findings(report)
    highest = max((f.severity for f in findings), default=None)
    return CheckResult(
        check="integrity",
        status=CheckStatus.FAIL if highest is not None and highest >= Severity.HIGH else CheckStatus.PASS,
        findings=findings,
        data={**data, "upstream_signature": report.to_json()},
        summary=f"{len(manifest.files)} files, {manifest.size} bytes; upstream signature {report.status}",
    )


def _findings(report: SignatureReport) -> tuple[Finding, ...]:
    rule_id = _RULES.get(report.status)
    if rule_id is None:
        return ()
    rule = load_catalogue()[rule_id]
    return (
        Finding(
            rule=rule.id,
            severity=rule.severity,
            message=f"{rule.title}: {report.detail}",
            path=report.path or "",
            evidence=report.diff.describe() if not report.diff.clean else "",
        ),
    )
