"""The rule catalogue: every rule id a check may report, with its default severity and docs.

The catalogue is data (``modelsteward/data/rules/*.yaml``), one file per area, so a reviewer
reads rules rather than code, and docs/rules.md is generated from it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from modelsteward.core.severity import Severity
from modelsteward.data import FOLDER, load_yaml


@dataclass(frozen=True, slots=True)
class Rule:
    """One documented rule."""

    id: str
    """Stable identifier, upper-case words joined by hyphens."""
    severity: Severity
    """Default severity of a finding of this rule."""
    title: str
    """Short sentence naming what was seen; the first part of every finding's message."""
    description: str
    """Why it matters and how an attacker uses it."""
    remediation: str
    """What a reviewer should do about it."""
    area: str
    """The catalogue file the rule comes from (``pickle``, ``archive``, ...)."""


class Catalogue(Mapping[str, Rule]):
    """Rules by id, read-only.

    Without ``rules`` the data files are read on first use, so a scan that finds nothing never
    parses them.
    """

    def __init__(self, rules: Mapping[str, Rule] | None = None) -> None:
        self._rules = None if rules is None else dict(rules)

    @property
    def _table(self) -> dict[str, Rule]:
        if self._rules is None:
            self._rules = _read_rules()
        return self._rules

    def __getitem__(self, rule_id: str) -> Rule:
        return self._table[rule_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


_FIELDS = {"id", "severity", "title", "description", "remediation"}


def _parse_rule(entry: Any, area: str) -> Rule:
    if not isinstance(entry, dict) or not entry.keys() >= _FIELDS:
        raise ValueError(f"rules/{area}.yaml: each rule needs {sorted(_FIELDS)} (got {entry!r})")
    return Rule(
        id=str(entry["id"]),
        severity=Severity.parse(str(entry["severity"])),
        title=str(entry["title"]).strip(),
        description=" ".join(str(entry["description"]).split()),
        remediation=" ".join(str(entry["remediation"]).split()),
        area=area,
    )


@functools.cache
def load_catalogue() -> Catalogue:
    """The catalogue of every rule shipped with the package, read when first consulted."""
    return Catalogue()


def _read_rules() -> dict[str, Rule]:
    """Every rule file shipped with the package; raise ValueError on a malformed or duplicate rule."""
    rules: dict[str, Rule] = {}
    for item in sorted((FOLDER / "rules").iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".yaml"):
            continue
        area = item.name.removesuffix(".yaml")
        for entry in load_yaml(f"rules/{item.name}") or []:
            rule = _parse_rule(entry, area)
            if rule.id in rules:
                raise ValueError(f"rules/{area}.yaml: duplicate rule id {rule.id}")
            rules[rule.id] = rule
    return rules


def render_markdown(catalogue: Catalogue) -> str:
    """docs/rules.md: every rule, grouped by area, in catalogue order."""
    lines = [
        "# Rules",
        "",
        "Generated from `src/modelsteward/data/rules/*.yaml` by `steward rules --format markdown`;",
        "edit the data files, not this page.",
        "",
    ]
    area = ""
    for rule in catalogue.values():
        if rule.area != area:
            area = rule.area
            lines += [f"## {area}", ""]
        lines += [
            f"### `{rule.id}`",
            "",
            f"**{rule.severity.label}**: {rule.title}",
            "",
            rule.description,
            "",
            f"*Remediation:* {rule.remediation}",
            "",
        ]
    return "\n".join(lines)
