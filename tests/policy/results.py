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


def performance(
    metrics: dict[str, tuple[float | None, float | None, float | None]] | None = None,
    *,
    task: str = "classification",
    isolation: str = "bubblewrap",
    p95_ms: float = 12.0,
) -> CheckResult:
    """A performance result with ``metrics`` as name -> (value, low, high)."""
    measured = {"accuracy": (0.9, 0.85, 0.94)} if metrics is None else metrics
    return CheckResult(
        check="performance",
        status=CheckStatus.PASS,
        data={
            "task": task,
            "isolation": isolation,
            "metrics": {n: {"value": v, "low": lo, "high": hi} for n, (v, lo, hi) in measured.items()},
            "efficiency": {
                "batch_size": 32,
                "latency_ms": {"p50": p95_ms / 2, "p95": p95_ms, "p99": p95_ms * 2},
            },
        },
    )


def fairness(
    task: str = "classification",
    *,
    groups: dict[str, tuple[float | None, float | None, float | None]] | None = None,
    associations: dict[str, tuple[float, float]] | None = None,
    flips: dict[str, float] | None = None,
) -> CheckResult:
    """A fairness result: groups as feature -> (parity difference, parity ratio, equalized odds),
    associations as test -> (effect size, p-value), flips as family -> flip rate."""
    return CheckResult(
        check="fairness",
        status=CheckStatus.PASS,
        data={
            "task": task,
            "groups": [
                {
                    "feature": feature,
                    "demographic_parity_difference": gaps[0],
                    "demographic_parity_ratio": gaps[1],
                    "equalized_odds_difference": gaps[2],
                }
                for feature, gaps in (groups or {}).items()
            ],
            "associations": [
                {"test": t, "effect_size": d, "p_value": p} for t, (d, p) in (associations or {}).items()
            ],
            "counterfactual": [{"family": f, "pairs": 10, "flip_rate": r} for f, r in (flips or {}).items()],
        },
    )


def dependencies(*findings: Finding, audited: bool = True) -> CheckResult:
    """A dependencies result with these findings, audited against an advisory database or not."""
    return CheckResult(
        check="dependencies",
        status=CheckStatus.WARN if findings or not audited else CheckStatus.PASS,
        findings=findings,
        data={"audited": audited, "components": [], "vulnerabilities": []},
        summary="3 declared and 200 installed components",
    )
