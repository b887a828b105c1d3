"""The dependencies check: what a model version depends on, and which of it is vulnerable."""

from __future__ import annotations

from modelsteward.checks import CheckContext
from modelsteward.checks.dependencies._declared import Problem, read_declared
from modelsteward.core import (
    CheckResult,
    CheckStatus,
    Component,
    Finding,
    Origin,
    Severity,
    Snapshot,
    Vulnerability,
)

UNRATED = Severity.HIGH
"""The severity of a finding whose advisory gives none: unknown is not harmless."""
_ENVIRONMENT = "(runtime environment)"


def run(snapshot: Snapshot, context: CheckContext) -> CheckResult:
    """List the snapshot's declared requirements with the runtime environment, and audit both.

    The environment and the advisory index come in through ``context``; without an index the
    components are still listed and the result says they were not audited.
    """
    declared = read_declared(snapshot)
    components = (*declared.components, *context.environment)
    index = context.advisories
    vulnerabilities = () if index is None else index.audit(components)
    findings = tuple(_unread(p) for p in declared.problems) + tuple(_finding(v) for v in vulnerabilities)
    data = {
        "audited": index is not None,
        "components": [c.to_json() for c in components],
        "vulnerabilities": [v.to_json() for v in vulnerabilities],
    }
    listed = f"{len(declared.components)} declared and {len(context.environment)} installed components"
    if declared.problems:
        listed += f" ({len(declared.problems)} declarations unread)"
    if index is None:
        summary = f"{listed}; not audited: no advisory database (run `steward advisories sync`)"
        return CheckResult("dependencies", CheckStatus.WARN, findings, data, summary)
    if vulnerabilities:
        affected = len({v.component.name for v in vulnerabilities})
        summary = f"{listed}; {len(vulnerabilities)} known vulnerabilities in {affected} components"
    else:
        summary = f"{listed}; no known vulnerability"
    return CheckResult(
        "dependencies", CheckStatus.WARN if findings else CheckStatus.PASS, findings, data, summary
    )


def _finding(vulnerability: Vulnerability) -> Finding:
    component = vulnerability.component
    rated = "" if vulnerability.severity is not None else " (the advisory gives no severity)"
    aliases = f" ({', '.join(vulnerability.aliases)})" if vulnerability.aliases else ""
    return Finding(
        rule="DEPENDENCY-VULNERABLE",
        severity=vulnerability.severity or UNRATED,
        message=(
            f"{component.name} {component.version} is affected by {vulnerability.advisory}{aliases}{rated}: "
            f"{vulnerability.summary}; {vulnerability.remedy}"
        ),
        path=_where(component),
        evidence=" ".join(vulnerability.ids),
    )


def _unread(problem: Problem) -> Finding:
    return Finding(
        rule="DEPENDENCY-UNREAD",
        severity=Severity.LOW,
        message=f"A dependency declaration could not be read; the list may be incomplete: {problem.message}",
        path=problem.path,
        location=problem.location,
    )


def _where(component: Component) -> str:
    if component.origin is Origin.ENVIRONMENT:
        return _ENVIRONMENT
    # Evidence of a declared component is ``file:line``: the finding names the file.
    return component.evidence.rpartition(":")[0] or component.evidence
