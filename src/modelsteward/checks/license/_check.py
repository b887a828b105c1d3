"""The licence check: detect, classify, and report in the contract every policy reads."""

from __future__ import annotations

from typing import Any

from modelsteward.checks import CheckContext
from modelsteward.checks.license._classify import Classification, classify
from modelsteward.checks.license._detect import Declaration, Origin, detect
from modelsteward.checks.license._table import LicenseClass, load_table
from modelsteward.core import CheckResult, CheckStatus, Finding, Snapshot
from modelsteward.core.rules import load_catalogue

CHECK = "license"

_PROBLEM_RULES = {
    Origin.CARD: "LICENSE-METADATA-INVALID",
    Origin.CONFIG: "LICENSE-METADATA-INVALID",
    Origin.FILE: "LICENSE-TEXT-UNRECOGNISED",
}


def run(snapshot: Snapshot, context: CheckContext) -> CheckResult:
    """Classify the snapshot's licence and list what it obliges the enterprise to do.

    Passes only for a known permissive licence on which card, files and configs agree; anything
    else warns, and the policy decides. ``context`` holds nothing this check needs.
    """
    del context
    declarations = detect(snapshot)
    verdict = classify(declarations, load_table())
    passed = verdict.known and not verdict.conflict and verdict.license_class is LicenseClass.PERMISSIVE
    return CheckResult(
        check=CHECK,
        status=CheckStatus.PASS if passed else CheckStatus.WARN,
        findings=_findings(declarations, verdict),
        data=_data(declarations, verdict),
        summary=_summary(verdict),
    )


def _data(declarations: tuple[Declaration, ...], verdict: Classification) -> dict[str, Any]:
    """The check's JSON data, in the licence contract that policies and reports read."""
    return {
        "licenses": [{"id": d.text, "where": d.where} for d in declarations],
        "class": verdict.license_class.value,
        "ids": list(verdict.ids),
        "known": verdict.known,
        "conflict": verdict.conflict,
        "conflict_detail": verdict.conflict_detail,
        "obligations": [{"id": o.id, "text": o.text} for o in verdict.obligations],
    }


def _findings(declarations: tuple[Declaration, ...], verdict: Classification) -> tuple[Finding, ...]:
    catalogue = load_catalogue()

    def finding(rule: str, detail: str, path: str, evidence: str = "") -> Finding:
        entry = catalogue[rule]
        return Finding(rule, entry.severity, f"{entry.title}: {detail}", path, evidence=evidence)

    found: list[Finding] = []
    if not declarations:
        detail = "no licence in the card metadata, in a licence file or in a config"
        found.append(finding("LICENSE-MISSING", detail, "README.md"))
    for declaration in declarations:
        if declaration.problem:
            rule = _PROBLEM_RULES[declaration.origin]
            found.append(finding(rule, f"{declaration.where}: {declaration.problem}", declaration.path))
    for item in verdict.unresolved:
        declaration = item.declaration
        why = "names no licence the table can judge" if item.entry else "is not in the licence table"
        detail = f"{item.name!r} ({declaration.where}) {why}"
        found.append(finding("LICENSE-UNKNOWN", detail, declaration.path, evidence=item.name))
    if verdict.conflict:
        first = next(d for d in declarations if not d.problem)
        found.append(finding("LICENSE-CONFLICT", verdict.conflict_detail, first.path))
    for entry in verdict.licenses:
        if entry.license_class is not LicenseClass.PERMISSIVE:
            path = verdict.named_by[entry.id].path
            detail = f"{entry.name} is {entry.license_class.value}"
            evidence = ", ".join(dict.fromkeys(o.id for o in entry.obligations))
            found.append(finding("LICENSE-RESTRICTED", detail, path, evidence=evidence))
    return tuple(found)


def _summary(verdict: Classification) -> str:
    if verdict.conflict:
        return f"conflicting licences: {verdict.conflict_detail}"
    if not verdict.known:
        return "licence unknown" if not verdict.ids else f"licence unknown ({', '.join(verdict.ids)})"
    count = len(verdict.obligations)
    duties = f", {count} obligation{'s' if count > 1 else ''}" if count else ""
    return f"{' AND '.join(e.id for e in verdict.licenses)} ({verdict.license_class.value}{duties})"
