"""SARIF 2.1.0 for code-scanning uploads: one run, every catalogue rule, one result per finding."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from modelsteward import __version__
from modelsteward.checks.security import ScanReport
from modelsteward.core import CheckResult, Finding, Manifest, Severity
from modelsteward.core.rules import Catalogue, Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# Code scanning ranks security results by this CVSS-like score.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(word.capitalize() for word in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule.remediation, "markdown": rule.remediation},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "tags": ["security", rule.area],
        },
    }


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    message = finding.message
    if finding.location:
        message += f" (at {finding.location})"
    return {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": _LEVEL[finding.severity],
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.path},
                    "region": {"startLine": 1},
                },
                "logicalLocations": [{"fullyQualifiedName": finding.location}] if finding.location else [],
            }
        ],
        "partialFingerprints": {
            "modelstewardFinding/v1": f"{finding.rule}:{finding.path}:{finding.location}:{finding.evidence}"
        },
        "properties": {
            "severity": finding.severity.label,
            "security-severity": _SECURITY_SEVERITY[finding.severity],
            "evidence": finding.evidence,
        },
    }


def render(report: ScanReport, catalogue: Catalogue) -> str:
    """A SARIF 2.1.0 log; files not fully scanned appear as tool execution notifications."""
    incomplete = [(file.path, reason) for file in report.files for reason in file.incomplete]
    return _log(report.findings, [file.path for file in report.files], incomplete, catalogue)


def render_check(result: CheckResult, manifest: Manifest, catalogue: Catalogue) -> str:
    """The SARIF log of the gate's security check over a snapshot's files."""
    incomplete = [
        (entry["path"], reason) for entry in result.data["incomplete"] for reason in entry["reasons"]
    ]
    return _log(result.findings, [file.path for file in manifest.files], incomplete, catalogue)


def _log(
    findings: Sequence[Finding],
    artifacts: Sequence[str],
    incomplete: Sequence[tuple[str, str]],
    catalogue: Catalogue,
) -> str:
    rules = list(catalogue.values())
    index = {rule.id: i for i, rule in enumerate(rules)}
    notifications = [
        {
            "level": "warning",
            "message": {"text": f"not fully scanned: {reason}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": path}}}],
        }
        for path, reason in incomplete
    ]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ModelSteward",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule(rule) for rule in rules],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "artifacts": [{"location": {"uri": path}} for path in artifacts],
                "results": [_result(f, index) for f in findings],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
