"""The text outcome of ``steward admit``: evaluated models show every metric and the failing groups."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from modelsteward.core import Admission
from modelsteward.gate import Outcome
from modelsteward.registry import VersionInfo
from modelsteward.reports.admission_json import outcome_to_json
from modelsteward.reports.admission_text import render
from tests.reports.admission_fixture import build_admission, security_result
from tests.reports.evaluation_fixture import evaluation


def _printed(admission: Admission) -> str:
    registered = VersionInfo(
        name=admission.name,
        number=3,
        manifest=admission.snapshot.manifest,
        manifest_digest=admission.snapshot.manifest.digest,
        source=admission.snapshot.source,
        revision=admission.snapshot.revision,
        verdict=admission.decision.verdict,
        record={},
        documents={},
        derived_from=None,
        created=admission.created,
        archived=False,
    )
    out = io.StringIO()
    render(
        outcome_to_json(Outcome(admission, True, registered, {})),
        Console(file=out, width=200, markup=False, highlight=False),
    )
    return out.getvalue()


def test_metrics_with_intervals_and_four_fifths_failures_follow_the_checks(tmp_path: Path) -> None:
    results = evaluation(tmp_path).check_results()

    printed = _printed(build_admission(results=(security_result([]), *results), reasons=()))

    assert (
        "performance: accuracy 0.853 [0.822, 0.881], macro_f1 0.812 [0.780, 0.840], ece 0.041 [0.020, 0.066]"
        in printed
    )
    assert "fairness: the four-fifths rule fails for sex, sex x race" in printed
    assert printed.index("Checks") < printed.index("performance: accuracy")


def test_an_admission_without_evaluation_prints_no_evaluation_lines() -> None:
    printed = _printed(build_admission())

    assert "performance:" not in printed
    assert "four-fifths" not in printed
