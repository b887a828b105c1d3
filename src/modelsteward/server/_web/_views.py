"""What the pages show, read out of the registry's values: pure functions, no requests, no database.

An admission record is JSON written by ``reports.admission_json``; these functions pick from it what a
person reads on a page, and tolerate keys an older record lacks (a page must never fail on history).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelsteward.monitoring import Timeline
from modelsteward.registry import Approval, AuditEntry, EvaluationRecord, VersionInfo

DOCUMENT_FILES = {
    "report": ("report.html", "text/html; charset=utf-8", "Assessment report (HTML)"),
    "model-card": ("README.md", "text/markdown; charset=utf-8", "Model card (Markdown)"),
    "ml-bom": ("ml-bom.cdx.json", "application/vnd.cyclonedx+json", "ML-BOM (CycloneDX JSON)"),
    "sarif": ("security.sarif", "application/sarif+json", "Security findings (SARIF)"),
    "manifest": ("manifest.json", "application/json", "Manifest (JSON)"),
    "signature": ("model.sig", "application/octet-stream", "Signature (Sigstore bundle)"),
}
"""Document kind -> (download file name, media type, what to call it on a page)."""

_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


@dataclass(frozen=True, slots=True)
class Series:
    """A chart's data, drawn from a table: the table is what a reader without JavaScript sees."""

    title: str
    """The chart's caption."""
    kind: str
    """``line`` or ``bar``: how steward.js draws it."""
    x_label: str
    """The first column's heading (the categories or times)."""
    labels: tuple[str, ...]
    """One per row."""
    columns: tuple[tuple[str, tuple[float | None, ...]], ...]
    """(series name, one value per row); None where there is no value."""
    unit: str = ""
    """Said after the values' heading (``ms``, ``%``)."""


@dataclass(frozen=True, slots=True)
class Metric:
    """One measured metric with its bootstrap interval."""

    name: str
    value: float | None
    low: float | None
    high: float | None
    level: float | None


@dataclass(frozen=True, slots=True)
class CheckView:
    """One check of an admission as the version page shows it."""

    name: str
    status: str
    summary: str
    findings: tuple[Mapping[str, str], ...]
    """Most severe first."""


@dataclass(frozen=True, slots=True)
class DomainState:
    """Where one review domain stands on a version."""

    domain: str
    decision: str | None
    """``approve``, ``reject`` or None when nobody in the domain has decided."""
    actor: str = ""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class VersionView:
    """Everything the version page shows besides what ``VersionInfo`` says directly."""

    verdict: str
    reasons: tuple[Mapping[str, str], ...]
    policy: str
    checks: tuple[CheckView, ...]
    license: Mapping[str, Any]
    """The licence check's data: ``class``, ``ids``, ``licenses`` (id, where), ``obligations``."""
    metrics: tuple[Metric, ...]
    fairness: tuple[Series, ...]
    documents: tuple[tuple[str, str], ...]
    """(kind, label) of each document kept with the version."""
    extra: Mapping[str, Any] = field(default_factory=dict)


def version_view(info: VersionInfo, evaluations: Sequence[EvaluationRecord] = ()) -> VersionView:
    """What the version page shows of ``info``; metrics and fairness from its admission, else from its
    latest recorded evaluation."""
    record = info.record
    decision = record.get("decision") or {}
    checks = [c for c in record.get("checks", ()) if isinstance(c, Mapping)]
    by_name = {str(c.get("check")): c for c in checks}
    performance = _data(by_name.get("performance"))
    fairness = _data(by_name.get("fairness"))
    if not performance and evaluations:
        performance = evaluations[-1].record
    if not fairness and evaluations:
        fairness = evaluations[-1].record.get("fairness") or {}
    return VersionView(
        verdict=str(decision.get("verdict") or info.verdict.value),
        reasons=tuple(r for r in decision.get("reasons", ()) if isinstance(r, Mapping)),
        policy=str((record.get("policy") or {}).get("name", ""))
        if isinstance(record.get("policy"), Mapping)
        else str(record.get("policy") or ""),
        checks=tuple(_check(c) for c in checks),
        license=_data(by_name.get("license")),
        metrics=metrics_of(performance),
        fairness=fairness_series(fairness),
        documents=tuple(
            (kind, DOCUMENT_FILES[kind][2] if kind in DOCUMENT_FILES else kind)
            for kind in sorted(info.documents)
        ),
    )


def metrics_of(performance: Mapping[str, Any]) -> tuple[Metric, ...]:
    """The metrics (value and interval) of a performance check's data or an evaluation record."""
    metrics = performance.get("metrics") or {}
    if not isinstance(metrics, Mapping):
        return ()
    return tuple(
        Metric(str(name), _num(m.get("value")), _num(m.get("low")), _num(m.get("high")), _num(m.get("level")))
        for name, m in metrics.items()
        if isinstance(m, Mapping)
    )


def fairness_series(fairness: Mapping[str, Any]) -> tuple[Series, ...]:
    """One bar chart per sensitive feature: each group's selection and true positive rates."""
    group_metrics = fairness.get("group_metrics") or {}
    disparities = group_metrics.get("disparities", ()) if isinstance(group_metrics, Mapping) else ()
    charts = []
    for disparity in disparities:
        groups = [g for g in disparity.get("groups", ()) if isinstance(g, Mapping)]
        if not groups:
            continue
        labels = tuple(
            ", ".join(f"{k}={v}" for k, v in (g.get("group") or {}).items()) + f" (n={g.get('count', '?')})"
            for g in groups
        )
        rates = (
            ("selection_rate", "Selection rate"),
            ("true_positive_rate", "True positive rate"),
            ("accuracy", "Accuracy"),
        )
        every = ((title, tuple(_num(g.get(key)) for g in groups)) for key, title in rates)
        # A rate no group has (no labels, say) is left out rather than drawn as nothing.
        columns = tuple((title, values) for title, values in every if any(v is not None for v in values))
        features = " × ".join(str(f) for f in disparity.get("features", ()))
        ratio = _num(disparity.get("demographic_parity_ratio"))
        note = "" if ratio is None else f"; parity ratio {ratio:.2f}"
        charts.append(Series(f"Groups by {features}{note}", "bar", "Group", labels, columns))
    return tuple(charts)


def domain_states(approvals: Iterable[Approval], domains: Iterable[str]) -> tuple[DomainState, ...]:
    """Each domain's latest decision on a version (a later rejection overrides an approval)."""
    latest: dict[str, Approval] = {}
    for approval in sorted(approvals, key=lambda a: a.at):
        latest[approval.role] = approval
    states = []
    for domain in domains:
        found = latest.get(domain)
        states.append(
            DomainState(domain, None)
            if found is None
            else DomainState(domain, found.decision, found.actor, found.comment)
        )
    return tuple(states)


def audit_of(entries: Iterable[AuditEntry], name: str, number: int | None = None) -> tuple[AuditEntry, ...]:
    """The audit entries about model ``name`` (or about its version ``number`` only), newest first."""
    ref = f"{name}@{number}" if number is not None else None
    chosen = [
        e
        for e in entries
        if (e.subject == ref if ref is not None else (e.subject == name or e.subject.startswith(f"{name}@")))
        or (ref is None and e.subject.startswith(f"{name}:"))
    ]
    return tuple(reversed(chosen))


def monitoring_series(result: Timeline) -> tuple[Series, ...]:
    """Latency, error rate and traffic over time, and each column's drift score against its threshold."""
    labels = tuple(w.end.strftime("%m-%d %H:%M") for w in result.windows)
    k = [w.kpis for w in result.windows]
    charts = [
        Series(
            "Latency",
            "line",
            "Window ending (UTC)",
            labels,
            (
                ("p50", tuple(_finite(x.latency_p50_ms) for x in k)),
                ("p95", tuple(_finite(x.latency_p95_ms) for x in k)),
                ("p99", tuple(_finite(x.latency_p99_ms) for x in k)),
            ),
            unit="ms",
        ),
        Series(
            "Error rate",
            "line",
            "Window ending (UTC)",
            labels,
            (("Error rate", tuple(_percent(x.error_rate) for x in k)),),
            unit="%",
        ),
        Series(
            "Predictions",
            "bar",
            "Window ending (UTC)",
            labels,
            (("Predictions", tuple(float(x.count) for x in k)),),
        ),
    ]
    columns: dict[str, list[float | None]] = {}
    thresholds: dict[str, float] = {}
    for position, window in enumerate(result.windows):
        for column in window.drift.columns if window.drift is not None else ():
            values = columns.setdefault(column.column, [None] * len(result.windows))
            values[position] = _finite(column.score)
            thresholds[column.column] = column.threshold
    for name, values in columns.items():
        threshold = thresholds[name]
        charts.append(
            Series(
                f"Drift of {name}",
                "line",
                "Window ending (UTC)",
                labels,
                (("Score", tuple(values)), ("Threshold", tuple(threshold for _ in values))),
            )
        )
    return tuple(charts)


def _check(check: Mapping[str, Any]) -> CheckView:
    findings = tuple(f for f in check.get("findings", ()) if isinstance(f, Mapping))
    return CheckView(
        name=str(check.get("check", "?")),
        status=str(check.get("status", "?")),
        summary=str(check.get("summary") or ""),
        findings=tuple(sorted(findings, key=lambda f: _SEVERITY_ORDER.get(str(f.get("severity")), 9))),
    )


def _data(check: Mapping[str, Any] | None) -> Mapping[str, Any]:
    data = None if check is None else check.get("data")
    return data if isinstance(data, Mapping) else {}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _finite(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


def _percent(value: float) -> float | None:
    return round(value * 100, 2) if math.isfinite(value) else None
