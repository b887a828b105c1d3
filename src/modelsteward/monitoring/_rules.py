"""Alert rules: which metric of which models, over which window, past which threshold, for how long.

A rules file is YAML, validated with every error located at its ``file:line:col``, as every YAML file
ModelSteward reads (:mod:`modelsteward._yamlfile`). See docs/alerts.md.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictStr, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from modelsteward._yamlfile import (
    Document,
    Issue,
    IssueError,
    Loc,
    describe,
    did_you_mean,
    dotted,
    parse_yaml,
    read_text,
)
from modelsteward.core import Severity

Op = Literal[">", ">=", "<", "<="]
"""How a value is compared with a rule's threshold."""

METRICS: Mapping[str, str] = MappingProxyType(
    {
        "count": "predictions in the window",
        "throughput": "predictions per second over the window",
        "error_rate": "share of predictions in the window that failed, 0 to 1",
        "latency.p50_seconds": "median model-call latency, in seconds",
        "latency.p95_seconds": "95th percentile of model-call latency, in seconds",
        "latency.p99_seconds": "99th percentile of model-call latency, in seconds",
        "accuracy": "share of labelled predictions that were right, 0 to 1",
        "f1": "macro-averaged F1 of labelled predictions, 0 to 1",
        "drift.share": "share of monitored columns that drifted from the reference, 0 to 1",
    }
)
"""The metrics a rule can watch, as the monitor names them, and what each measures; beside these,
``drift.column.<column>`` (the drift score of one column) and ``drift.column.*`` (of every column)."""
COLUMN_DRIFT = "drift.column."
"""The prefix of one column's drift score: ``drift.column.age``."""
PLACEHOLDERS = ("rule", "metric", "model", "version", "column", "value", "op", "threshold")
"""What an annotation may fill in: ``{model}``, ``{value:.3f}``, ...; ``column`` is empty but for drift
of one column."""
RESERVED_LABELS = ("alertname", "model", "version", "column", "severity")
"""Labels every alert gets from its rule and observation, which a rule's own labels cannot replace."""

_CONFIG = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
_RULE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MODEL_PATTERN = re.compile(r"[A-Za-z0-9._/*?\[\]!-]+")
_COLUMN = re.compile(r"[^\s*?\[\]]+|\*")
_DURATION = re.compile(r"(?:\d+(?:ms|s|m|h|d|w))+")
_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_SAMPLE = {
    "rule": "r",
    "metric": "m",
    "model": "org/bert",
    "version": 1,
    "column": "",
    "value": 0.5,
    "op": ">",
    "threshold": 0.25,
}


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One alert rule: a metric's value compared with a threshold, per model version."""

    name: str
    """Unique in its file; the ``alertname`` label of its alerts."""
    metric: str
    """A name of :data:`METRICS`, ``drift.column.<column>`` or ``drift.column.*``."""
    window: timedelta
    """The window the monitor computes the metric over (the last 5 minutes, the last hour)."""
    op: Op
    threshold: float
    """The alert's condition is ``value <op> threshold``."""
    model: str = "*"
    """fnmatch pattern of the model names it watches; default every model."""
    hold: timedelta = timedelta(0)
    """How long the condition must hold before the alert fires (``for`` in the file); 0 fires at once."""
    severity: Severity = Severity.MEDIUM
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels on its alerts (``team: search``), for routing."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    """Templates of its alerts' annotations (``summary``, ``description``); see :data:`PLACEHOLDERS`."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))
        object.__setattr__(self, "annotations", MappingProxyType(dict(self.annotations)))

    def watches(self, metric: str, model: str) -> bool:
        """Whether this rule applies to ``metric`` of ``model``."""
        if self.metric == f"{COLUMN_DRIFT}*":
            wanted = metric.startswith(COLUMN_DRIFT) and len(metric) > len(COLUMN_DRIFT)
        else:
            wanted = metric == self.metric
        return wanted and fnmatchcase(model, self.model)

    def breached(self, value: float) -> bool:
        """Whether ``value`` meets the rule's condition."""
        match self.op:
            case ">":
                return value > self.threshold
            case ">=":
                return value >= self.threshold
            case "<":
                return value < self.threshold
            case "<=":
                return value <= self.threshold


class RulesError(IssueError):
    """A rules file that cannot be used, with every issue found in it."""


def load_rules(path: Path) -> tuple[AlertRule, ...]:
    """Read and validate the rules file at ``path``; raise :class:`RulesError` listing every issue."""
    return parse_rules(read_text(path, RulesError), filename=str(path))


def parse_rules(text: str, *, filename: str) -> tuple[AlertRule, ...]:
    """The alert rules in ``text``, naming ``filename`` in errors; raise :class:`RulesError`."""
    document = parse_yaml(
        text, filename, empty="the file is empty; it needs a list of rules", error=RulesError
    )
    issues = list(document.issues)
    try:
        parsed = _RulesFile.model_validate(document.data)
    except ValidationError as error:
        # pydantic also calls a list whose every rule is wrong too short: that rule's issues say enough.
        details = [d for d in error.errors() if not (d["type"] == "too_short" and d["input"])]
        issues += [_issue(detail, document) for detail in details]
        raise RulesError(issues) from None
    issues += _repeated_names(parsed, document)
    if issues:
        raise RulesError(issues)
    return tuple(_rule(entry) for entry in parsed.rules)


def duration(text: str) -> timedelta:
    """``90s``, ``5m``, ``1h30m`` (units ms, s, m, h, d, w) as a timedelta; ValueError otherwise."""
    if not _DURATION.fullmatch(text):
        raise ValueError(f"must be a duration such as 30s, 5m, 1h or 1h30m (got {describe(text)})")
    return sum((int(count) * _UNITS[unit] for count, unit in _DURATION_PART.findall(text)), timedelta(0))


def _invalid(message: str) -> PydanticCustomError:
    """An error whose message follows the key's dotted path (``rules[0].metric must ...``)."""
    return PydanticCustomError("rules", message)


def _rule_name(value: str) -> str:
    if not _RULE_NAME.fullmatch(value):
        raise _invalid(
            "must start with a letter and hold only letters, digits, _ . and -,"
            f" such as HighLatency (got {describe(value)})"
        )
    return value


def _metric(value: str) -> str:
    if value in METRICS:
        return value
    if value.startswith(COLUMN_DRIFT) and _COLUMN.fullmatch(value.removeprefix(COLUMN_DRIFT)):
        return value
    hint = did_you_mean(value, [*METRICS, f"{COLUMN_DRIFT}*"])
    raise _invalid(
        f"must be one of {', '.join(METRICS)}, {COLUMN_DRIFT}<column> or {COLUMN_DRIFT}*"
        f" (got {describe(value)}){hint}"
    )


def _model_pattern(value: str) -> str:
    if not _MODEL_PATTERN.fullmatch(value):
        raise _invalid(
            f"must be a model name or an fnmatch pattern of them, such as org/* (got {describe(value)})"
        )
    return value


def _duration(value: object, *, positive: bool) -> timedelta:
    if value == 0 and not positive and not isinstance(value, bool):
        return timedelta(0)
    if not isinstance(value, str):
        raise _invalid(f"must be a duration such as 30s, 5m, 1h or 1h30m (got {describe(value)})")
    try:
        length = duration(value)
    except ValueError as error:
        raise _invalid(str(error)) from None
    if positive and length <= timedelta(0):
        raise _invalid(f"must be longer than 0 (got {describe(value)})")
    return length


def _window(value: object) -> timedelta:
    return _duration(value, positive=True)


def _hold(value: object) -> timedelta:
    return _duration(value, positive=False)


def _severity(value: object) -> Severity:
    if isinstance(value, str) and value.strip().upper() in Severity.__members__:
        return Severity.parse(value)
    raise _invalid(f"must be one of {', '.join(s.label for s in Severity)} (got {describe(value)})")


def _label_name(value: str) -> str:
    if not _LABEL_NAME.fullmatch(value):
        raise _invalid(
            "has a key that is not a label name (letters, digits and _, not first a digit):"
            f" {describe(value)}"
        )
    return value


def _labels(value: dict[str, str]) -> dict[str, str]:
    taken = [name for name in value if name in RESERVED_LABELS]
    if taken:
        raise _invalid(
            f"cannot set {', '.join(taken)}: every alert gets {', '.join(RESERVED_LABELS)} from its rule"
        )
    return value


def _one_line(value: str) -> str:
    if value.splitlines() != [value] and value != "":
        raise _invalid(f"must be one line (got {describe(value)})")
    return value


def _template(value: str) -> str:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as error:
        raise _invalid(f"is not a valid template: {error} (write {{{{ and }}}} for a brace)") from None
    unknown = [name for name in fields if name not in PLACEHOLDERS]
    if unknown:
        hint = did_you_mean(unknown[0], PLACEHOLDERS)
        raise _invalid(
            f"uses {{{unknown[0]}}}{hint}; a template may use {', '.join(f'{{{p}}}' for p in PLACEHOLDERS)}"
        )
    try:
        value.format(**_SAMPLE)
    except (ValueError, TypeError) as error:
        raise _invalid(f"is not a valid template: {error}") from None
    return value


LabelName = Annotated[StrictStr, AfterValidator(_label_name)]


class _Rule(BaseModel):
    """One rule as written in the file."""

    model_config = _CONFIG

    name: Annotated[StrictStr, Field(max_length=100), AfterValidator(_rule_name)]
    metric: Annotated[StrictStr, AfterValidator(_metric)]
    model: Annotated[StrictStr, Field(max_length=200), AfterValidator(_model_pattern)] = "*"
    window: Annotated[timedelta, BeforeValidator(_window)] = timedelta(minutes=5)
    op: Op
    threshold: Annotated[float, Field(strict=True, allow_inf_nan=False)]
    hold: Annotated[timedelta, BeforeValidator(_hold), Field(alias="for")] = timedelta(0)
    severity: Annotated[Severity, BeforeValidator(_severity)] = Severity.MEDIUM
    labels: Annotated[
        dict[LabelName, Annotated[StrictStr, AfterValidator(_one_line)]], AfterValidator(_labels)
    ] = Field(default_factory=dict)
    annotations: dict[LabelName, Annotated[StrictStr, AfterValidator(_template)]] = Field(
        default_factory=dict
    )


class _RulesFile(BaseModel):
    """The rules file."""

    model_config = _CONFIG

    rules: Annotated[tuple[_Rule, ...], Field(min_length=1)]


_KEYS = {
    "rules": ("rules",),
    "rule": tuple(field.alias or name for name, field in _Rule.model_fields.items()),
}


def _rule(entry: _Rule) -> AlertRule:
    return AlertRule(
        name=entry.name,
        metric=entry.metric,
        window=entry.window,
        op=entry.op,
        threshold=float(entry.threshold),
        model=entry.model,
        hold=entry.hold,
        severity=entry.severity,
        labels=entry.labels,
        annotations=entry.annotations,
    )


def _repeated_names(parsed: _RulesFile, document: Document) -> list[Issue]:
    first: dict[str, int] = {}
    issues = []
    for index, entry in enumerate(parsed.rules):
        if entry.name in first:
            loc: Loc = ("rules", index, "name")
            message = (
                f"{dotted(loc)} {describe(entry.name)} is the name of rules[{first[entry.name]}] already"
            )
            issues.append(document.issue(loc, message + "; each rule needs its own name"))
        first.setdefault(entry.name, index)
    return issues


def _issue(detail: ErrorDetails, document: Document) -> Issue:
    loc = detail["loc"]
    kind = detail["type"]
    if kind == "extra_forbidden":
        return document.issue(loc, _unknown_key(loc), key=True)
    if kind == "rules":  # raised by this module's validators: worded already
        if loc and loc[-1] == "[key]":  # a label or annotation name: placed at its mapping
            loc = loc[:-2]
        return document.issue(loc, f"{dotted(loc) or 'the file'} {detail['msg']}")
    return document.validation_issue(detail)


def _unknown_key(loc: Loc) -> str:
    """``<path> is not a key of ...``, the keys allowed there, and the closest one."""
    allowed = _KEYS["rule" if len(loc) > 1 else "rules"]
    owner = "a rule" if len(loc) > 1 else "the rules file"
    hint = did_you_mean(str(loc[-1]), allowed)
    return f"{dotted(loc)} is not a key of {owner}{hint}; its keys are {', '.join(allowed)}"
