"""The admission as a JSON document: the ``--json`` output of ``steward admit`` and the registry's record.

Keys keep one order so two records of the same admission compare equal as text; the shape is documented
in docs/documents.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelsteward.core import Admission, CheckResult, Finding, Reason

if TYPE_CHECKING:
    from modelsteward.gate import Outcome


def admission_to_json(admission: Admission) -> dict[str, Any]:
    """Everything the gate knows about one admission, as JSON-ready values in a stable key order."""
    snapshot = admission.snapshot
    return {
        "name": admission.name,
        "version": admission.version,
        "source": snapshot.source,
        "revision": snapshot.revision,
        "policy": admission.policy,
        "created": admission.created.isoformat(),
        "manifest": {
            "digest": snapshot.manifest.digest,
            "files": len(snapshot.manifest.files),
            "bytes": snapshot.manifest.size,
        },
        "decision": {
            "verdict": admission.decision.verdict.value,
            "reasons": [_reason(r) for r in admission.decision.reasons],
        },
        "checks": [_check(r) for r in admission.assessment.results],
        "derived_from": admission.derived_from,
    }


def outcome_to_json(outcome: Outcome) -> dict[str, Any]:
    """What ``steward admit --json`` prints, and what its text is drawn from: the admission, where its
    documents were written, whether the version is new, and the version as the registry holds it."""
    document = admission_to_json(outcome.admission)
    document["documents"] = {kind: str(path) for kind, path in outcome.documents.items()}
    document["new_version"] = outcome.new
    document["registered"] = {
        "ref": outcome.registered.ref,
        "verdict": outcome.registered.verdict.value,
        "derived_from": outcome.registered.derived_from,
    }
    return document


def _reason(reason: Reason) -> dict[str, str]:
    return {
        "verdict": reason.verdict.value,
        "rule": reason.rule,
        "check": reason.check,
        "message": reason.message,
        "evidence": reason.evidence,
    }


def _check(result: CheckResult) -> dict[str, Any]:
    return {
        "check": result.check,
        "status": result.status.value,
        "summary": result.summary,
        "findings": [_finding(f) for f in result.findings],
        "data": _plain(result.data),
    }


def _finding(finding: Finding) -> dict[str, str]:
    return {
        "rule": finding.rule,
        "severity": finding.severity.label,
        "message": finding.message,
        "path": finding.path,
        "location": finding.location,
        "evidence": finding.evidence,
    }


def _plain(value: Any) -> Any:
    """``value`` with every mapping made a dict and every tuple a list, so ``json.dumps`` takes it."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
