"""How a candidate version differs from the version it would replace: files, licence, findings, metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from modelsteward.registry import VersionDiff, VersionInfo


@dataclass(frozen=True, slots=True)
class Change:
    """One thing measured or counted in both versions, before and after."""

    name: str
    """A finding rule (``PICKLE-GLOBAL-DENIED``) or a metric (``accuracy``)."""
    before: float | None
    """None where the replaced version has none."""
    after: float | None
    """None where the candidate has none."""


@dataclass(frozen=True, slots=True)
class CandidateDiff:
    """A candidate against the version it would replace."""

    files: VersionDiff
    """Files added, removed and changed, verdicts and licence ids (``a`` the replaced version)."""
    obligations: tuple[tuple[str, ...], tuple[str, ...]]
    """Obligation ids the licences impose, before and after."""
    license_class: tuple[str | None, str | None]
    """The licence class, before and after."""
    findings: tuple[Change, ...]
    """Finding counts per rule, for every rule whose count changed."""
    metrics: tuple[Change, ...]
    """Evaluation metrics where either version was evaluated at admission."""

    @property
    def license_changed(self) -> bool:
        """Whether the licence ids or their class differ."""
        before, after = self.files.licenses
        return set(before) != set(after) or self.license_class[0] != self.license_class[1]

    def to_json(self) -> dict[str, Any]:
        """The diff as JSON, for ``--json`` and the webhook."""
        files = self.files
        return {
            "from": files.a,
            "to": files.b,
            "files": {
                "added": list(files.added),
                "removed": list(files.removed),
                "changed": list(files.changed),
            },
            "verdict": [v.value for v in files.verdicts],
            "licenses": [list(ids) for ids in files.licenses],
            "license_class": list(self.license_class),
            "obligations": [list(ids) for ids in self.obligations],
            "findings": [_change(c) for c in self.findings],
            "metrics": [_change(c) for c in self.metrics],
        }


def candidate_diff(replaced: VersionInfo, candidate: VersionInfo, files: VersionDiff) -> CandidateDiff:
    """Compare the admission records of two versions; ``files`` is the registry's diff of the two."""
    old, new = _checks(replaced.record), _checks(candidate.record)
    before, after = _finding_counts(old), _finding_counts(new)
    findings = tuple(
        Change(rule, before.get(rule, 0), after.get(rule, 0))
        for rule in sorted(before.keys() | after.keys())
        if before.get(rule, 0) != after.get(rule, 0)
    )
    old_metrics, new_metrics = _metrics(old), _metrics(new)
    metrics = tuple(
        Change(name, old_metrics.get(name), new_metrics.get(name))
        for name in sorted(old_metrics.keys() | new_metrics.keys())
    )
    return CandidateDiff(
        files=files,
        obligations=(_obligations(old), _obligations(new)),
        license_class=(_license_class(old), _license_class(new)),
        findings=findings,
        metrics=metrics,
    )


def _checks(record: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {check["check"]: check for check in record.get("checks", ())}


def _finding_counts(checks: Mapping[str, Mapping[str, Any]]) -> Counter[str]:
    return Counter(finding["rule"] for check in checks.values() for finding in check.get("findings", ()))


def _license_data(checks: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    data: Mapping[str, Any] = checks.get("license", {}).get("data", {})
    return data


def _license_class(checks: Mapping[str, Mapping[str, Any]]) -> str | None:
    value = _license_data(checks).get("class")
    return value if isinstance(value, str) else None


def _obligations(checks: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(sorted({o["id"] for o in _license_data(checks).get("obligations", ())}))


def _metrics(checks: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    measured = checks.get("performance", {}).get("data", {}).get("metrics", {})
    return dict(_values(measured))


def _values(measured: Mapping[str, Any]) -> Iterator[tuple[str, float]]:
    for name, estimate in measured.items():
        value = estimate.get("value") if isinstance(estimate, Mapping) else None
        if isinstance(value, int | float):
            yield name, float(value)


def _change(change: Change) -> dict[str, Any]:
    return {"name": change.name, "before": change.before, "after": change.after}
