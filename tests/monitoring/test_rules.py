"""The alert rules file: its values, its defaults, and an error at the line and column of each mistake."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from modelsteward.core import Severity
from modelsteward.monitoring._rules import METRICS, AlertRule, RulesError, duration, load_rules, parse_rules

EXAMPLE = """\
rules:
  - name: HighLatency
    metric: latency.p99_seconds
    model: org/*
    window: 5m
    op: ">"
    threshold: 0.5
    for: 10m
    severity: high
    labels: {team: search}
    annotations:
      summary: "p99 latency of {model}@{version} is {value:.3f} s"
      runbook: https://runbooks.example.internal/latency
  - name: InputDrift
    metric: drift.column.*
    op: ">="
    threshold: 0.2
"""


def test_a_rules_file_gives_its_rules_and_the_documented_defaults(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(EXAMPLE, encoding="utf-8")
    latency, drift = load_rules(path)
    assert latency == AlertRule(
        name="HighLatency",
        metric="latency.p99_seconds",
        window=timedelta(minutes=5),
        op=">",
        threshold=0.5,
        model="org/*",
        hold=timedelta(minutes=10),
        severity=Severity.HIGH,
        labels={"team": "search"},
        annotations={
            "summary": "p99 latency of {model}@{version} is {value:.3f} s",
            "runbook": "https://runbooks.example.internal/latency",
        },
    )
    assert (drift.model, drift.window, drift.hold, drift.severity) == (
        "*",
        timedelta(minutes=5),
        timedelta(0),
        Severity.MEDIUM,
    )
    assert dict(drift.labels) == {} and dict(drift.annotations) == {}


def test_a_rule_watches_its_metric_of_the_models_its_pattern_matches() -> None:
    latency, drift = parse_rules(EXAMPLE, filename="alerts.yaml")
    assert latency.watches("latency.p99_seconds", "org/bert")
    assert not latency.watches("latency.p99_seconds", "bert")
    assert not latency.watches("latency.p95_seconds", "org/bert")
    assert drift.watches("drift.column.age", "bert")
    assert not drift.watches("drift.column.", "bert")
    assert not drift.watches("drift.share", "bert")


@pytest.mark.parametrize(
    ("op", "breached", "kept"),
    [(">", 0.6, 0.5), (">=", 0.5, 0.4), ("<", 0.4, 0.5), ("<=", 0.5, 0.6)],
)
def test_each_comparison_holds_on_its_side_of_the_threshold(op: str, breached: float, kept: float) -> None:
    (rule,) = parse_rules(
        f'rules:\n  - {{name: r, metric: count, op: "{op}", threshold: 0.5}}\n', filename="a"
    )
    assert rule.breached(breached)
    assert not rule.breached(kept)


def test_durations_take_units_and_combinations() -> None:
    assert duration("90s") == timedelta(seconds=90)
    assert duration("1h30m") == timedelta(minutes=90)
    assert duration("250ms") == timedelta(milliseconds=250)
    assert duration("2w") == timedelta(days=14)
    with pytest.raises(ValueError, match="must be a duration"):
        duration("5 minutes")


def test_every_metric_the_monitor_makes_is_listed_with_its_meaning() -> None:
    assert {
        "error_rate",
        "latency.p99_seconds",
        "accuracy",
        "f1",
        "throughput",
        "count",
        "drift.share",
    } <= set(METRICS)
    assert all(meaning for meaning in METRICS.values())


def _rule(body: str) -> str:
    return "rules:\n  - name: r\n    metric: count\n    op: '>'\n    threshold: 1\n" + body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "rules:\n  - name: r\n    metric: latncy.p99_seconds\n    op: '>'\n    threshold: 1\n",
            "alerts.yaml:3:13: rules[0].metric must be one of count, throughput, error_rate,",
            id="unknown-metric",
        ),
        pytest.param(
            "rules:\n  - name: r\n    metric: latncy.p99_seconds\n    op: '>'\n    threshold: 1\n",
            '(got "latncy.p99_seconds") (did you mean latency.p99_seconds?)',
            id="metric-did-you-mean",
        ),
        pytest.param(
            _rule("    window: 5x\n"), "alerts.yaml:6:13: rules[0].window must be a duration", id="window"
        ),
        pytest.param(
            _rule("    window: 0s\n"), 'rules[0].window must be longer than 0 (got "0s")', id="window-zero"
        ),
        pytest.param(
            _rule("    fr: 10m\n"),
            "alerts.yaml:6:5: rules[0].fr is not a key of a rule (did you mean for?);"
            " its keys are name, metric, model, window, op, threshold, for, severity, labels, annotations",
            id="unknown-key",
        ),
        pytest.param(
            "rules:\n  - name: r\n    metric: count\n    op: '=>'\n    threshold: 1\n",
            'alerts.yaml:4:9: rules[0].op must be one of >, >=, <, <= (got "=>")',
            id="op",
        ),
        pytest.param(
            "rules:\n  - name: r\n    metric: count\n    op: '>'\n    threshold: '1'\n",
            'alerts.yaml:5:16: rules[0].threshold must be a number (got "1")',
            id="threshold-text",
        ),
        pytest.param(
            _rule("    severity: severe\n"),
            "alerts.yaml:6:15: rules[0].severity must be one of info, low, medium, high, critical"
            ' (got "severe")',
            id="severity",
        ),
        pytest.param(
            _rule("    labels: {alertname: x}\n"),
            "alerts.yaml:6:13: rules[0].labels cannot set alertname: every alert gets alertname, model,",
            id="reserved-label",
        ),
        pytest.param(
            _rule("    labels: {9team: x}\n"),
            "rules[0].labels has a key that is not a label name"
            ' (letters, digits and _, not first a digit): "9team"',
            id="label-name",
        ),
        pytest.param(
            _rule("    annotations: {summary: '{modle} is {value}'}\n"),
            "alerts.yaml:6:28: rules[0].annotations.summary uses {modle} (did you mean model?);"
            " a template may use {rule}, {metric}, {model}, {version}, {column}, {value}, {op}, {threshold}",
            id="placeholder",
        ),
        pytest.param(
            _rule("    annotations: {summary: '{value:.3q}'}\n"),
            "rules[0].annotations.summary is not a valid template: Unknown format code 'q'",
            id="format-spec",
        ),
        pytest.param(
            _rule("  - {name: r, metric: count, op: '<', threshold: 2}\n"),
            'alerts.yaml:6:12: rules[1].name "r" is the name of rules[0] already;'
            " each rule needs its own name",
            id="repeated-name",
        ),
        pytest.param(
            "rules:\n  - {name: 9r, metric: count, op: '<', threshold: 2}\n",
            "alerts.yaml:2:12: rules[0].name must start with a letter",
            id="rule-name",
        ),
        pytest.param("rules: []\n", "alerts.yaml:1:8: rules must not be empty", id="no-rules"),
        pytest.param(
            "rule: []\n",
            "alerts.yaml:1:1: rule is not a key of the rules file (did you mean rules?); its keys are rules",
            id="top-key",
        ),
        pytest.param("", "alerts.yaml:1:1: the file is empty; it needs a list of rules", id="empty"),
        pytest.param("rules: [\n", "alerts.yaml:2:1: YAML syntax error", id="syntax"),
    ],
)
def test_mistakes_are_reported_where_they_are_written(text: str, expected: str) -> None:
    with pytest.raises(RulesError) as raised:
        parse_rules(text, filename="alerts.yaml")
    assert expected in str(raised.value)


def test_every_mistake_is_reported_at_once() -> None:
    text = "rules:\n  - name: r\n    metric: cnt\n    op: '>'\n    threshold: 1\n    severity: nope\n"
    with pytest.raises(RulesError) as raised:
        parse_rules(text, filename="alerts.yaml")
    assert [(issue.line, issue.path) for issue in raised.value.issues] == [
        (3, "rules[0].metric"),
        (6, "rules[0].severity"),
    ]


def test_an_unreadable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=r"alerts\.yaml: cannot read"):
        load_rules(tmp_path / "alerts.yaml")
