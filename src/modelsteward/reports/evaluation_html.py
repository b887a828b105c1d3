"""An evaluation, or a leaderboard of candidates, as one self-contained HTML page.

The pages follow the admission report: inline styles, no scripts, a Content-Security-Policy that
forbids fetching anything, and every value escaped by Jinja's autoescaping. Charts are inline SVG.
Both take the JSON that :meth:`Evaluation.to_json` and :meth:`Leaderboard.to_json` write, which is what
the registry stores, so a page can be rendered again from the record long after the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelsteward import __version__
from modelsteward.reports._templates import environment

__all__ = ["render_evaluation_html", "render_leaderboard_html"]

_TEMPLATE = "evaluation.html.j2"


def render_evaluation_html(evaluation: Mapping[str, Any]) -> str:
    """The page of one candidate's evaluation: data and model, metrics, efficiency and fairness."""
    return _render(evaluation=evaluation, leaderboard=None)


def render_leaderboard_html(leaderboard: Mapping[str, Any]) -> str:
    """The page of a comparison: the ranking with the significance of each gap, then every candidate."""
    return _render(evaluation=None, leaderboard=leaderboard)


def _render(**context: Mapping[str, Any] | None) -> str:
    return environment().get_template(_TEMPLATE).render(**context, tool_version=__version__)
