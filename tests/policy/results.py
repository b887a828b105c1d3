"""Check results as the checks report them (the data contracts), to build assessments from."""

from __future__ import annotations

from typing import Any

from modelsteward.core import Assessment, CheckResult, CheckStatus, Finding, Severity


def security(*findings: Finding, incomplete: list[dict[str, Any]] | None = None) -> CheckResult:
    """A security result with these findings and files not fully scanned."""
    highest = max((f.severity for f in findings), default=None)
    return CheckResult(
        check="security",
        status=CheckStatus.WARN if findings or incomplete else CheckStatus.PASS,
        findings=findings,
        data={"files": 3, "incomplete": incomplete or [], "highest": highest.label if highest else None},
    )


def integrity(status: str = "absent", *findings: Finding) -> CheckResult:
    """An integrity result whose upstream signature is in ``status``."""
    path = None if status == "absent" else "model.sig"
    return CheckResult(
        check="integrity",
        status=CheckStatus.FAIL if status == "mismatch" else CheckStatus.PASS,
        findings=findings,
        data={
            "files": 3,
            "bytes": 1000,
            "manifest_digest": "sha256:" + "0" * 64,
            "upstream_signature": {"status": status, "path": path, "detail": f"signature {status}"},
        },
    )


def license_(
    licence_class: str = "permissive",
    ids: tuple[str, ...] = ("apache-2.0",),
    *,
    known: bool = True,
    conflict: bool = False,
    obligations: tuple[str, ...] = ("notice",),
) -> CheckResult:
    """A licence result for ``ids`` of ``licence_class``, found in the card metadata."""
    return CheckResult(
        check="license",
        status=CheckStatus.PASS if licence_class == "permissive" else CheckStatus.WARN,
        data={
            "licenses": [{"id": i, "where": "README.md metadata `license`"} for i in ids],
            "class": licence_class,
            "ids": list(ids),
            "known": known,
            "conflict": conflict,
            "conflict_detail": "README.md says mit, LICENSE is apache-2.0" if conflict else "",
            "obligations": [{"id": o, "text": f"the {o} obligation"} for o in obligations],
        },
    )


def documentation(card: str | None = "README.md", *missing: str) -> CheckResult:
    """A documentation result for ``card`` with the ``missing`` sections absent."""
    sections = ("intended_use", "limitations", "training_data", "evaluation")
    findings = tuple(
        Finding(
            "DOC-SECTION-MISSING", Severity.LOW, f"The model card lacks a section: no {s}", "README.md", s
        )
        for s in missing
    )
    return CheckResult(
        check="documentation",
        status=CheckStatus.WARN if missing or card is None else CheckStatus.PASS,
        findings=findings,
        data={
            "card": card,
            "metadata": card is not None,
            "sections": {s: card is not None and s not in missing for s in sections},
        },
    )


def finding(rule: str, severity: Severity, path: str = "model.bin") -> Finding:
    """A finding of ``rule`` at ``severity`` in ``path``."""
    return Finding(rule, severity, f"{rule} seen", path, location="@12", evidence="posix.system")


def assessment(*replacements: CheckResult, without: tuple[str, ...] = ()) -> Assessment:
    """A clean assessment of the four checks, with ``replacements`` in place of their namesakes."""
    results = {r.check: r for r in (security(), integrity(), license_(), documentation())}
    results.update({r.check: r for r in replacements})
    return Assessment(tuple(r for check, r in results.items() if check not in without))
