"""The rule catalogue: well-formed, documented, and in step with the code that reports it."""

from __future__ import annotations

import re
from pathlib import Path

from modelsteward.core import Severity
from modelsteward.core.rules import load_catalogue, render_markdown

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "modelsteward"
RULE_ID = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")
# A quoted rule id anywhere in the source: the first argument of report(), or a table entry.
QUOTED_ID = re.compile(r"[\"']([A-Z0-9]+(?:-[A-Z0-9]+)+)[\"']")


def _ids_in_source() -> set[str]:
    catalogue = load_catalogue()
    prefixes = {rule.split("-")[0] for rule in catalogue}
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for match in QUOTED_ID.finditer(path.read_text(encoding="utf-8")):
            if match.group(1).split("-")[0] in prefixes:
                found.add(match.group(1))
    return found


def test_every_rule_is_well_formed() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) >= 3
    for rule in catalogue.values():
        assert RULE_ID.match(rule.id), rule.id
        assert isinstance(rule.severity, Severity)
        assert rule.title and rule.description and rule.remediation, rule.id


def test_every_rule_the_code_reports_is_in_the_catalogue() -> None:
    missing = _ids_in_source() - set(load_catalogue())
    assert not missing, f"rule ids used in src/ but missing from data/rules/: {sorted(missing)}"


def test_every_catalogue_rule_is_reported_somewhere() -> None:
    unused = set(load_catalogue()) - _ids_in_source()
    assert not unused, f"rules documented but never reported by any scanner: {sorted(unused)}"


def test_docs_rules_page_is_generated_from_the_catalogue() -> None:
    page = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert page == render_markdown(load_catalogue()), (
        "docs/rules.md is stale: run `steward rules --format markdown > docs/rules.md`"
    )
