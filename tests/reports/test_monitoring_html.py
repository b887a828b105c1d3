"""The monitoring page: a chart per metric and per column, escaped, self-contained, with the alerts."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest

from modelsteward.core import Severity
from modelsteward.monitoring._timeline import Timeline, timeline
from modelsteward.registry import Alert, AlertState
from modelsteward.reports.monitoring_html import render_monitoring_html
from tests.monitoring.test_timeline import HOUR, PER_HOUR, SETTINGS, T0, events, reference
from tests.reports.test_admission_html import _Page, _text

HOSTILE = "input.<script>alert(1)</script>"
CATEGORY = "<img src=x onerror=alert(2)>"
GENERATED = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
DESCRIBED = "events of acme/churn@2 from 2026-03-01T00:00:00+00:00 to 2026-03-02T00:00:00+00:00"


def _hostile(table: pa.Table, seed: int) -> pa.Table:
    """``table`` with a numeric column of a hostile name and a categorical one with a hostile value."""
    rng = np.random.default_rng(seed)
    tiers = rng.choice(("gold", CATEGORY), size=table.num_rows).tolist()
    return table.append_column(HOSTILE, pa.array(rng.normal(0.0, 1.0, table.num_rows))).append_column(
        "input.tier", pa.array(tiers, pa.string())
    )


def _timeline(table: pa.Table, ref: pa.Table | None, hours: int = 8) -> Timeline:
    return timeline(
        table,
        ref,
        model="acme/churn",
        version=2,
        window=HOUR,
        start=T0,
        end=T0 + hours * HOUR,
        settings=SETTINGS,
    )


@pytest.fixture(scope="module")
def measured() -> Timeline:
    return _timeline(_hostile(events(8, shifted_from=4), 3), _hostile(reference(), 4))


def _alert(state: AlertState, **labels: str) -> Alert:
    return Alert(
        fingerprint="0123456789abcdef",
        rule="HighLatency",
        labels={"alertname": "HighLatency", "model": "acme/churn", "version": "2", **labels},
        annotations={"summary": f"p99 latency over 500 ms {CATEGORY}"},
        severity=Severity.HIGH,
        state=state,
        value=612.5,
        active_since=T0 + 5 * HOUR,
        fired_at=T0 + 6 * HOUR,
        resolved_at=None,
        observed_at=T0 + 8 * HOUR,
        evaluated_at=T0 + 8 * HOUR,
    )


def _render(result: Timeline, alerts: list[Alert] | None = None, described: str = DESCRIBED) -> str:
    return render_monitoring_html(result, alerts or [], reference=described, generated=GENERATED)


def _charts(page: str) -> dict[str, str]:
    """Each chart by its title."""
    return {
        title: chart
        for chart, title in re.findall(r"(<svg .*?<title>([^<]*)</title>.*?</svg>)", page, re.DOTALL)
    }


def test_the_page_is_well_formed_and_fetches_nothing(measured: Timeline) -> None:
    page = _render(measured, [_alert(AlertState.FIRING, column=HOSTILE)])
    parsed = _Page(page)

    assert parsed.problems == []
    assert not {"script", "link", "img", "iframe", "object", "embed", "base", "a", "foreignobject"} & set(
        parsed.tags
    )
    assert not {name for name, _ in parsed.attributes} & {"src", "href", "srcset", "action", "style"}
    assert "<script" not in page.lower()
    assert set(re.findall(r"https?://[^\"'\s<>]*", page)) == {"http://www.w3.org/2000/svg"}


def test_hostile_column_names_and_categories_are_escaped_everywhere(measured: Timeline) -> None:
    page = _render(measured, [_alert(AlertState.FIRING, column=HOSTILE)])

    assert HOSTILE not in page and CATEGORY not in page
    assert "input.&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    text = _text(page)
    assert text.count(HOSTILE) >= 4  # the summary's table, the score chart, the distribution, the alert
    assert f"{CATEGORY} 0." in text  # a row of the tier distribution, with its shares


def test_every_metric_and_every_column_has_a_chart(measured: Timeline) -> None:
    charts = _charts(_render(measured))
    columns = ["input.age", "input.income", "input.plan", "output.label", HOSTILE, "input.tier"]

    assert list(charts) == [
        "Predictions per window",
        "Error rate",
        "Latency",
        "Accuracy and F1 on labelled predictions",
        "Share of columns drifted",
        "Drift score per window: normalised Wasserstein distance",
        "Drift score per window: Jensen-Shannon distance",
        *(f"{name}: reference vs current".replace("<", "&lt;").replace(">", "&gt;") for name in columns),
    ]
    assert charts["Latency"].count("<polyline") == 3
    assert charts["Predictions per window"].count("<circle") == 8  # a point per window
    # Eight windows, every other one named under the axis, in UTC.
    ticks = re.findall(
        r'text-anchor="middle" [^>]*font-size="12"[^>]*>(\d\d-\d\d \d\d:\d\d)<', charts["Error rate"]
    )
    assert ticks == ["03-02 00:00", "03-02 02:00", "03-02 04:00", "03-02 06:00"]
    numeric = charts["Drift score per window: normalised Wasserstein distance"]
    assert numeric.count("<polyline") == 3 and 'stroke-dasharray="4 4"' in numeric
    assert "threshold 0.1" in numeric
    plan = charts["input.plan: reference vs current"]
    assert plan.count("<rect") == 6  # three plans, reference and current each
    assert charts["input.age: reference vs current"].count("<rect") == 20  # ten bins


def test_the_summary_and_the_column_table_give_the_range_as_a_whole(measured: Timeline) -> None:
    text = _text(_render(measured))

    assert "Windows 8 of 1h" in text
    assert f"Reference {DESCRIBED}" in text
    assert "Generated 2026-03-03 09:30:00 UTC by ModelSteward" in text
    assert f"Predictions {8 * PER_HOUR:,} Throughput 0.083 per second Error rate 10.0%" in text
    assert "Accuracy 0.900 on 2,400 labelled predictions" in text
    assert "Drifted columns input.age, input.plan" in text
    assert re.search(r"input\.age numeric wasserstein \d\.\d{3} 0\.100 ks < 0\.001 drifted \+0\.0%", text)
    assert re.search(r"input\.income numeric wasserstein 0\.0\d\d 0\.100 ks \d\.\d{3} no", text)


def test_the_alerts_of_the_version_are_listed(measured: Timeline) -> None:
    firing = _alert(AlertState.FIRING, column=HOSTILE)
    resolved = dataclasses.replace(
        _alert(AlertState.RESOLVED), rule="ErrorsUp", resolved_at=T0 + 7 * HOUR, severity=Severity.LOW
    )
    text = _text(_render(measured, [firing, resolved]))

    assert (
        f"HighLatency p99 latency over 500 ms {CATEGORY} {HOSTILE} firing 612.500 2026-03-02 05:00:00 UTC"
        " 2026-03-02 06:00:00 UTC high"
    ) in text
    assert (
        f"ErrorsUp p99 latency over 500 ms {CATEGORY} resolved 612.500 2026-03-02 05:00:00 UTC"
        " 2026-03-02 06:00:00 UTC 2026-03-02 07:00:00 UTC low"
    ) in text
    assert "No alerts on record" in _text(_render(measured))


def test_without_a_reference_the_page_says_drift_is_not_measured() -> None:
    reason = "acme/churn@2 was neither evaluated at admission nor since"
    page = _render(_timeline(events(2), None, hours=2), described=reason)
    text = _text(page)

    assert "Drift is not measured: no reference." in text
    assert f"Reference {reason}" in text
    assert list(_charts(page)) == [
        "Predictions per window",
        "Error rate",
        "Latency",
        "Accuracy and F1 on labelled predictions",
    ]
    assert "Columns over the whole range" not in text


def test_without_events_the_page_says_so_and_draws_nothing() -> None:
    page = _render(_timeline(events(1).slice(0, 0), reference(), hours=2))

    assert "No events of acme/churn@2 in this range" in _text(page)
    assert "<svg" not in page


def test_many_columns_share_their_score_charts_six_at_a_time() -> None:
    rng = np.random.default_rng(5)
    table = events(2)
    ref = reference()
    for index in range(8):
        table = table.append_column(f"input.f{index}", pa.array(rng.normal(0, 1, table.num_rows)))
        ref = ref.append_column(f"input.f{index}", pa.array(rng.normal(0, 1, ref.num_rows)))
    titles = [t for t in _charts(_render(_timeline(table, ref, hours=2))) if "Wasserstein" in t]

    # age, income and the eight features: ten numeric columns.
    assert titles == [
        "Drift score per window: normalised Wasserstein distance, columns 1 to 6 of 10",
        "Drift score per window: normalised Wasserstein distance, columns 7 to 10 of 10",
    ]
