"""``steward monitor`` as a user runs it, on a model evaluated at admission and served elsewhere.

The README's tabular example is admitted with its held-out data; its predictions are loaded from CSV
files; the monitor compares them with that evaluation data (the default reference), joins labels that
arrive later, and expires and erases events, each verified by reading the store back.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from modelsteward.monitoring import EventStore
from tests.conftest import Result, Steward

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SHIFTED = T0 + timedelta(hours=2)
WRONG = 10
"""Predictions of the first batch that disagree with their label."""


@pytest.fixture
def workspace(tmp_path: Path, steward: Steward, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace where the example classifier is admitted with its evaluation data; returns its folder."""
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STEWARD_DATABASE_URL", raising=False)
    examples = tmp_path / "examples"
    subprocess.run([sys.executable, str(REPO / "examples" / "tabular_model.py"), str(examples)], check=True)
    admitted = steward(
        "admit",
        str(examples / "breast-cancer-lr"),
        "--name",
        "acme/cancer",
        "--policy",
        str(REPO / "examples" / "policy.yaml"),
        "--data",
        str(examples / "breast-cancer-eval.csv"),
        "--task",
        "classification",
        "--columns",
        "label=target",
        "--quiet",
    )
    assert admitted.exit_code == 0, admitted.stderr
    return tmp_path


def _predictions(workspace: Path, name: str, start: datetime, *, radius: float = 1.0) -> Path:
    """The evaluation rows as served predictions from ``start``, 0.1 s apart, with ``mean radius`` scaled."""
    frame = pd.read_csv(workspace / "examples" / "breast-cancer-eval.csv")
    truth = frame.pop("target")
    frame["mean radius"] *= radius
    predicted = truth.copy()
    predicted.iloc[:WRONG] = 1 - predicted.iloc[:WRONG]
    frame.insert(0, "request_id", [f"{name}-{n}" for n in range(len(frame))])
    frame.insert(1, "at", [(start + timedelta(seconds=n / 10)).isoformat() for n in range(len(frame))])
    frame.insert(2, "latency_ms", 2.0)
    frame["patient"] = [f"p{n}" for n in range(len(frame))]
    frame["output.label"] = predicted
    path = workspace / f"{name}.csv"
    frame.to_csv(path, index=False)
    labels = workspace / f"{name}-labels.csv"
    with labels.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["request_id", "label"])
        writer.writerows(zip(frame["request_id"], truth, strict=True))
    return path


def _json(result: Result) -> dict[str, Any]:
    assert result.exit_code in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_status_compares_served_predictions_with_the_evaluation_data_and_joins_labels(
    workspace: Path, steward: Steward
) -> None:
    events = str(workspace / "events")
    same = _predictions(workspace, "same", T0)
    shifted = _predictions(workspace, "shifted", SHIFTED, radius=1.6)
    for path in (same, shifted):
        stored = steward(
            "monitor", "ingest", str(path), "--model", "acme/cancer", "--version", "1", "--events", events
        )
        assert stored.exit_code == 0, stored.stderr
        assert stored.stdout.strip() == "stored 285 events of acme/cancer@1"
    labelled = steward(
        "monitor",
        "ingest",
        str(workspace / "same-labels.csv"),
        "--model",
        "acme/cancer",
        "--labels",
        "--events",
        events,
    )
    assert labelled.stdout.strip() == "stored 285 labels of acme/cancer"

    def status(now: datetime) -> tuple[int, dict[str, Any]]:
        result = steward(
            "monitor", "status", "acme/cancer", "--now", now.isoformat(), "--events", events, "--json"
        )
        return result.exit_code, _json(result)

    code, quiet = status(T0 + timedelta(minutes=30))
    (window,) = quiet["versions"]
    assert window["reference"] == "the evaluation data acme/cancer@1 was approved on"
    assert window["kpis"]["count"] == 285
    assert window["kpis"]["labelled"] == 285
    assert window["kpis"]["accuracy"] == pytest.approx((285 - WRONG) / 285)
    assert window["kpis"]["latency_ms"]["p99"] == pytest.approx(2.0)
    columns = {c["column"]: c for c in window["drift"]["columns"]}
    assert len(columns) == 30 and "input.patient" not in columns  # the model's features, nothing else
    assert not any(c["drifted"] for c in columns.values())
    assert code == 0

    code, drifted = status(SHIFTED + timedelta(minutes=30))
    (window,) = drifted["versions"]
    assert [c["column"] for c in window["drift"]["columns"] if c["drifted"]] == ["input.mean radius"]
    assert window["kpis"]["labelled"] == 0  # the shifted batch's labels have not arrived
    assert code == 1

    text = steward(
        "monitor",
        "status",
        "acme/cancer",
        "--now",
        (SHIFTED + timedelta(minutes=30)).isoformat(),
        "--events",
        events,
    )
    assert "input.mean radius" in text.stdout and "DRIFTED" in text.stdout
    assert "drift against the evaluation data acme/cancer@1 was approved on: 1 of 30 columns" in text.stdout


def test_drift_settings_come_from_drift_or_the_home_file_and_bad_ones_are_named(
    workspace: Path, steward: Steward
) -> None:
    events = str(workspace / "events")
    shifted = _predictions(workspace, "shifted", SHIFTED, radius=1.6)
    steward("monitor", "ingest", str(shifted), "--model", "acme/cancer", "--version", "1", "--events", events)

    def drifted(*options: str) -> tuple[int, list[str]]:
        now = (SHIFTED + timedelta(minutes=30)).isoformat()
        result = steward(
            "monitor", "status", "acme/cancer", "--now", now, "--events", events, "--json", *options
        )
        (window,) = _json(result)["versions"]
        return result.exit_code, [c["column"] for c in window["drift"]["columns"] if c["drifted"]]

    assert drifted() == (1, ["input.mean radius"])
    lenient = workspace / "lenient.yaml"
    lenient.write_text("columns:\n  input.mean radius: {threshold: 5}\n")
    assert drifted("--drift", str(lenient)) == (0, [])
    home = workspace / "home" / "drift.yaml"
    home.write_text("numeric_threshold: 5\n")
    assert drifted() == (0, [])
    home.write_text("numeric_threshold: -1\n")
    refused = steward("monitor", "status", "acme/cancer", "--events", events)
    assert refused.exit_code == 4
    assert (
        "drift.yaml:1:20: numeric_threshold must be a finite number of at least 0 (got -1" in refused.stderr
    )
    assert drifted("--drift", str(lenient)) == (0, [])  # the file given wins over the home's


def test_a_changed_evaluation_file_is_not_taken_as_the_reference(workspace: Path, steward: Steward) -> None:
    events = str(workspace / "events")
    steward(
        "monitor",
        "ingest",
        str(_predictions(workspace, "same", T0)),
        "--model",
        "acme/cancer",
        "--version",
        "1",
        "--events",
        events,
    )
    data = workspace / "examples" / "breast-cancer-eval.csv"
    data.write_text(data.read_text().replace("\n", "\n", 1) + data.read_text().splitlines()[1] + "\n")
    result = steward(
        "monitor",
        "status",
        "acme/cancer",
        "--now",
        (T0 + timedelta(minutes=30)).isoformat(),
        "--events",
        events,
        "--json",
    )
    (window,) = _json(result)["versions"]
    assert window["drift"] is None
    assert "changed since the evaluation" in window["drift_note"]
    assert window["kpis"]["count"] == 285  # the KPIs are measured all the same


def test_expire_and_erase_remove_events_from_the_files(workspace: Path, steward: Steward) -> None:
    events = workspace / "events"
    for name, start in (("old", T0), ("new", SHIFTED)):
        path = _predictions(workspace, name, start)
        steward(
            "monitor",
            "ingest",
            str(path),
            "--model",
            "acme/cancer",
            "--version",
            "1",
            "--events",
            str(events),
        )
    expired = steward(
        "monitor",
        "expire",
        "--older-than",
        "1h",
        "--now",
        (SHIFTED + timedelta(minutes=50)).isoformat(),
        "--events",
        str(events),
        "--json",
    )
    assert json.loads(expired.stdout)["removed"] == 285
    erased = steward("monitor", "erase", "input.patient", "p3", "p7", "--events", str(events), "--json")
    assert json.loads(erased.stdout)["erased"] == 2
    left = EventStore(events).read("acme/cancer")
    assert left.num_rows == 283
    assert left["at"].to_pylist()[0] >= SHIFTED
    assert not {"p3", "p7"} & set(left["input.patient"].to_pylist())
    misspelt = steward("monitor", "erase", "input.patiant", "p1", "--events", str(events))
    assert misspelt.exit_code == 2
    assert "no stored event of any model has a column 'input.patiant'; nothing was erased" in misspelt.stderr
    assert EventStore(events).read("acme/cancer").num_rows == 283


def test_bad_input_is_named_and_stores_nothing(workspace: Path, steward: Steward) -> None:
    events = workspace / "events"
    broken = workspace / "broken.csv"
    broken.write_text("request_id,at,age\nr1,2026-11-02T09:00:00Z,41\nr2,yesterday,42\n")
    result = steward(
        "monitor", "ingest", str(broken), "--model", "acme/cancer", "--version", "1", "--events", str(events)
    )
    assert result.exit_code == 2
    assert "broken.csv:3: column 'at' is not an ISO 8601 time" in result.stderr
    assert "nothing was stored" in result.stderr
    assert EventStore(events).versions() == []
    both = steward("monitor", "ingest", str(broken), "--model", "acme/cancer", "--events", str(events))
    assert both.exit_code == 4 and "--version" in both.stderr
    no_rules = steward("monitor", "check", "--rules", str(workspace / "none.yaml"), "--events", str(events))
    assert no_rules.exit_code == 4 and "none.yaml: cannot read" in no_rules.stderr
    bad_period = steward(
        "monitor", "status", "acme/cancer", "--reference", "2026-11-02T10:00Z..2026-11-02T09:00Z"
    )
    assert bad_period.exit_code == 4 and "must end after it starts" in bad_period.stderr
    unknown = steward("monitor", "status", "acme/nothing", "--events", str(events))
    assert unknown.exit_code == 2 and "no events of acme/nothing" in unknown.stderr
