"""The evaluation and leaderboard pages: self-contained, escaped, with readable numbers and charts."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from modelsteward.reports.evaluation_html import render_evaluation_html, render_leaderboard_html
from tests.reports.evaluation_fixture import SCRIPT, evaluation_json, leaderboard_json
from tests.reports.test_admission_html import _Page, _text

_CSP = "default-src 'none'; style-src 'unsafe-inline'"
NAMES = (f"best{SCRIPT}", "worse & co", "close")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("evaluation")


@pytest.fixture(scope="module")
def evaluation(folder: Path) -> dict[str, Any]:
    return evaluation_json(folder)


@pytest.fixture(scope="module")
def leaderboard(folder: Path) -> dict[str, Any]:
    return leaderboard_json(folder, NAMES)


def _charts(page: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", page, re.DOTALL)


def test_both_pages_are_well_formed_fetch_nothing_and_carry_the_csp(
    evaluation: dict[str, Any], leaderboard: dict[str, Any]
) -> None:
    for page in (render_evaluation_html(evaluation), render_leaderboard_html(leaderboard)):
        parsed = _Page(page)
        assert parsed.problems == []
        assert not {"script", "link", "img", "iframe", "object", "embed", "base", "a", "foreignobject"} & set(
            parsed.tags
        )
        assert not {name for name, _ in parsed.attributes} & {"src", "href", "srcset", "action", "style"}
        assert ("content", _CSP) in parsed.attributes


def test_the_leaderboard_ranks_with_intervals_differences_and_tests(leaderboard: dict[str, Any]) -> None:
    text = _text(render_leaderboard_html(leaderboard))

    assert "Ranked by accuracy (higher is better) on 12 rows" in text
    assert f"1 best{SCRIPT} 0.900 [0.869, 0.928] best 2 close 0.890 [0.859, 0.918]" in text
    assert "0.010 [-0.010, 0.030] 0.500 mcnemar-exact (n = 12) not significant" in text
    assert (
        "3 worse & co 0.800 [0.769, 0.828] 0.100 [0.080, 0.120] < 0.001 mcnemar-chi2 (n = 12) significant"
        in text
    )
    assert "does not significantly beat every other candidate at α = 0.05" in text


def test_significance_is_judged_at_the_leaderboards_alpha(leaderboard: dict[str, Any]) -> None:
    strict = copy.deepcopy(leaderboard)
    strict["alpha"] = 0.0002  # p equal to alpha is not below it
    strict["best_is_significant"] = True

    page = render_leaderboard_html(strict)

    assert page.count('<span class="badge status-pass">significant</span>') == 0
    assert page.count('<span class="badge status-skipped">not significant</span>') == 2
    assert "which significantly beats every other candidate at α = 0.0002" in _text(page)


def test_every_candidate_has_its_own_section_in_the_order_given(leaderboard: dict[str, Any]) -> None:
    page = render_leaderboard_html(leaderboard)
    headings = re.findall(r'<section class="candidate" id="candidate-\d">\s*<h2>(.*?)</h2>', page)

    assert headings == ["best&lt;script&gt;alert(1)&lt;/script&gt;", "worse &amp; co", "close"]


def test_hostile_names_and_counterfactual_examples_are_escaped(leaderboard: dict[str, Any]) -> None:
    page = render_leaderboard_html(leaderboard)

    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parsed = _Page(page)
    assert "script" not in parsed.tags
    assert f"She asked for a loan of 000 euros. {SCRIPT} yes He asked for a loan of 000 euros." in _text(page)


def test_charts_are_accessible_inline_svg(leaderboard: dict[str, Any]) -> None:
    charts = _charts(render_leaderboard_html(leaderboard))

    # The ranking, then per candidate: metrics, latency, throughput and one per sensitive grouping.
    assert len(charts) == 1 + 3 * (3 + 3)
    for chart in charts:
        assert 'role="img"' in chart
        assert re.search(r'aria-label="[^"]{10,}"', chart)
        assert "<title>" in chart
    ranking = charts[0]
    assert (
        'aria-label="accuracy by candidate. best&lt;script&gt;alert(1)&lt;/script&gt; 0.9 [0.869, 0.928];'
        in (ranking)
    )
    assert "<title>worse &amp; co: 0.8 [0.769, 0.828]</title>" in ranking


def test_an_evaluation_shows_data_model_metrics_and_costs(evaluation: dict[str, Any]) -> None:
    text = _text(render_evaluation_html(evaluation))

    assert text.startswith("Evaluation: acme-small, classification")
    assert f"Data digest {evaluation['dataset']['digest']}" in text
    assert "Model sklearn, scikit-learn 1.9.0, 1,234 parameters" in text
    assert 'features ["age", "income"]' in text
    assert "Isolation bubblewrap" in text
    assert "95% interval" in text
    assert "accuracy 0.853 [0.822, 0.881] higher" in text
    assert "roc_auc n/a n/a higher" in text
    assert "ece 0.041 [0.020, 0.066] lower" in text
    assert "p50 3.70 ms, p95 5.55 ms, p99 6.66 ms" in text
    assert "Throughput 8,650.5 rows per second" in text
    assert "Peak memory 150.0 MiB Size on disk 47.1 KiB" in text
    assert "32 2 3.70 5.55 6.66 15,000.0 8" in text


def test_an_unsandboxed_run_is_called_out(folder: Path) -> None:
    unsandboxed = evaluation_json(folder)
    unsandboxed["isolation"] = "none"

    text = _text(render_evaluation_html(unsandboxed))

    assert "Isolation none: the model ran without a sandbox (--no-sandbox)" in text


def test_fairness_shows_groups_verdicts_associations_and_flips(evaluation: dict[str, Any]) -> None:
    page = render_evaluation_html(evaluation)
    text = _text(page)

    assert "Rates are for the favourable label yes; groups with fewer than 2 rows are too small" in text
    assert (
        "By sex Four-fifths rule fails Demographic parity difference 0.167 Demographic parity ratio 0.750"
        in text
    )
    assert "By race Four-fifths rule passes" in text
    assert "Asian 1 0.000 1.000 n/a 1.000 n/a too small to judge" in text
    assert page.count('<tr class="too-small">') == 2  # Asian, and F x Asian
    assert "F × White 3 0.667 0.333 0.500 0.000 n/a yes" in text
    assert "career-family <male, female> WEAT 1.23 1.81 < 0.001 (10,000 permutations) 8 / 8 / 8 / 8" in text
    assert "12 pairs from 12 texts (classification): the output changed for 16.7% of them" in text
    assert "pronouns 12 2 16.7%" in text
    assert "Changed outputs: pronouns (2 shown)" in text


def test_sections_without_evidence_are_left_out(folder: Path) -> None:
    bare = evaluation_json(folder)
    bare["fairness"] = None
    bare["efficiency"]["scaling"] = []

    page = render_evaluation_html(bare)

    assert "Fairness" not in _text(page)
    assert "Batches timed" not in page
    assert len(_charts(page)) == 1  # the metrics only
