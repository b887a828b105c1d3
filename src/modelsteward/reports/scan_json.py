"""The JSON document of a scan: stable field names, for pipelines."""

from __future__ import annotations

import json
from typing import Any

from modelsteward import __version__
from modelsteward.checks.security import FileReport, ScanReport
from modelsteward.core import Finding


def _finding(finding: Finding) -> dict[str, str]:
    return {
        "rule": finding.rule,
        "severity": finding.severity.label,
        "message": finding.message,
        "location": finding.location,
        "evidence": finding.evidence,
    }


def _file(report: FileReport) -> dict[str, Any]:
    return {
        "path": report.path,
        "format": report.format,
        "status": report.status,
        "incomplete": list(report.incomplete),
        "findings": [_finding(f) for f in report.findings],
    }


def render(report: ScanReport) -> str:
    """``{"files": [...], "summary": {...}, "tool": {...}}`` as indented JSON."""
    document = {
        "tool": {"name": "modelsteward", "version": __version__},
        "files": [_file(r) for r in report.files],
        "summary": report.summary(),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
