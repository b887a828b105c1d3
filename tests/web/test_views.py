"""What the pages pick out of the registry's values: metrics with intervals, fairness charts, review
states, audit entries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import modelsteward.server._web
from modelsteward.registry import Approval, AuditEntry
from modelsteward.server._web._views import audit_of, domain_states, fairness_series, metrics_of

T0 = datetime(2026, 3, 1, tzinfo=UTC)

FAIRNESS = {
    "group_metrics": {
        "disparities": [
            {
                "features": ["sex"],
                "groups": [
                    {"group": {"sex": "f"}, "count": 40, "selection_rate": 0.3, "true_positive_rate": 0.8},
                    {"group": {"sex": "m"}, "count": 60, "selection_rate": 0.5, "true_positive_rate": None},
                ],
                "demographic_parity_ratio": 0.6,
            }
        ]
    }
}


def test_metrics_keep_their_intervals_and_undefined_values_are_none() -> None:
    metrics = metrics_of(
        {
            "metrics": {
                "accuracy": {"value": 0.9, "low": 0.85, "high": 0.94, "level": 0.95},
                "roc_auc": {"value": None, "low": None, "high": None, "level": 0.95},
                "broken": "not a metric",
            }
        }
    )
    assert [(m.name, m.value, m.low, m.high) for m in metrics] == [
        ("accuracy", 0.9, 0.85, 0.94),
        ("roc_auc", None, None, None),
    ]
    assert metrics_of({}) == ()
    assert metrics_of({"metrics": [1, 2]}) == ()


def test_each_sensitive_feature_is_one_bar_chart_of_its_groups() -> None:
    (chart,) = fairness_series(FAIRNESS)
    assert chart.kind == "bar"
    assert chart.title == "Groups by sex; parity ratio 0.60"
    assert chart.labels == ("sex=f (n=40)", "sex=m (n=60)")
    assert dict(chart.columns)["Selection rate"] == (0.3, 0.5)
    assert dict(chart.columns)["True positive rate"] == (0.8, None)
    assert fairness_series({}) == ()


def test_a_later_rejection_stands_over_an_earlier_approval_in_its_domain() -> None:
    approvals = [
        Approval("legal", "lee", T0 + timedelta(hours=1), "licence is fine", decision="approve"),
        Approval("legal", "max", T0 + timedelta(hours=2), "no: the NC clause", decision="reject"),
        Approval("security", "sec", T0, decision="approve"),
    ]
    states = {s.domain: s for s in domain_states(approvals, ("security", "legal", "ethics"))}
    assert (states["legal"].decision, states["legal"].actor) == ("reject", "max")
    assert states["security"].decision == "approve"
    assert states["ethics"].decision is None


def test_the_audit_trail_of_a_version_is_its_own_entries_newest_first() -> None:
    def entry(seq: int, subject: str) -> AuditEntry:
        return AuditEntry(seq, T0, "sam", "admit", subject, {}, "0" * 64, "1" * 64)

    entries = [entry(1, "a/b@1"), entry(2, "a/b@2"), entry(3, "a/b"), entry(4, "a/bc@1"), entry(5, "a/b@1")]
    assert [e.seq for e in audit_of(entries, "a/b", 1)] == [5, 1]
    assert [e.seq for e in audit_of(entries, "a/b")] == [5, 3, 2, 1]


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_text_colours_meet_wcag_aa_contrast_on_their_backgrounds() -> None:
    css = (Path(modelsteward.server._web.__file__).parent / "static" / "steward.css").read_text()
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6});", css))
    pairs = [
        ("ink", "bg"),
        ("muted", "bg"),
        ("muted", "card"),
        ("brand", "card"),
        ("brand-ink", "brand"),
        ("ok", "ok-bg"),
        ("warn", "warn-bg"),
        ("bad", "bad-bg"),
    ]
    for text, background in pairs:
        lighter, darker = sorted((_luminance(colours[text]), _luminance(colours[background])), reverse=True)
        assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (text, background)
