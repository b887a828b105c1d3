"""``steward serve`` as a user runs it: a process that serves until interrupted, or refuses to start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sklearn.base import BaseEstimator

from modelsteward.registry import Registry
from modelsteward.settings import Settings
from modelsteward.store import ArtifactStore
from tests._ports import free_port
from tests.conftest import Steward
from tests.runtime.serving.models import register_models
from tests.runtime.serving.store import stored_events


def _kpi(page: str, name: str) -> float | None:
    """The value of ``steward_kpi{name=...}`` on a metrics page, or None before the monitor set it."""
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if sample.name == "steward_kpi" and sample.labels["name"] == name:
                return float(sample.value)
    return None


def test_serve_answers_until_interrupted_and_keeps_every_acknowledged_event(
    workspace: tuple[Settings, dict[str, BaseEstimator]], tmp_path: Path
) -> None:
    settings = workspace[0]
    port, events = free_port(), tmp_path / "events"
    env = {**os.environ, "STEWARD_HOME": str(settings.home), "STEWARD_DATABASE_URL": settings.database_url}
    command = [sys.executable, "-m", "modelsteward", "serve", "acme/churn@production", "--port", str(port)]
    command += ["--events", str(events), "--monitor-every", "500ms", "--monitor-window", "1h"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            while True:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            row = {"age": 0.5, "income": 1.0, "tenure": 2.0}
            answers = [client.post("/v1/predict", json={"inputs": row, "id": f"c{n}"}) for n in range(25)]
            # The monitor inside the server measures the stored events every half second.
            deadline = time.monotonic() + 20
            while (counted := _kpi(client.get("/metrics").text, "count")) != 25.0:
                assert time.monotonic() < deadline, f"the count gauge stayed at {counted}"
                time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors
    assert "serving acme/churn@1 on http://127.0.0.1" in errors
    acknowledged = {a.json()["request_id"] for a in answers if a.status_code == 200}
    assert len(acknowledged) == 25
    assert acknowledged <= set(stored_events(events, "acme/churn"))


def test_a_tampered_version_is_not_served(
    steward: Steward, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'registry.db'}", jobs=2)
    register_models(settings, tmp_path / "models")
    monkeypatch.setenv("STEWARD_HOME", str(settings.home))
    monkeypatch.setenv("STEWARD_DATABASE_URL", settings.database_url)
    with Registry.open(settings.database_url) as registry:
        manifest = registry.get("acme/churn@1").manifest
    stored = ArtifactStore(settings.store).materialize(manifest) / "model.skops"
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes() + b"\0")
    port = free_port()
    result = steward("serve", "acme/churn@1", "--port", str(port))
    assert result.exit_code == 1
    assert (
        "acme/churn@1: the stored files do not match the registered manifest (changed model.skops)"
        in result.stderr
    )
    assert "refusing to serve it" in result.stderr
    with socket.socket() as probe:  # nothing listens: the port is still free
        probe.bind(("127.0.0.1", port))


def test_bad_options_and_unknown_versions_are_refused(
    steward: Steward, workspace: tuple[Settings, dict[str, BaseEstimator]], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = workspace[0]
    monkeypatch.setenv("STEWARD_HOME", str(settings.home))
    monkeypatch.setenv("STEWARD_DATABASE_URL", settings.database_url)
    rate = steward("serve", "acme/churn@1", "--sample-rate", "1.5")
    assert rate.exit_code == 4 and "--sample-rate must lie between 0 and 1 (got 1.5)" in rate.stderr
    bad_drift = settings.home / "drift.yaml"
    bad_drift.write_text("columns:\n  age: {threshold: 0.2}\n")
    drift = steward("serve", "acme/churn@1", "--drift", str(bad_drift))
    assert (
        drift.exit_code == 4
        and "drift.yaml:2:3: columns.age is not a column the monitor compares" in drift.stderr
    )
    bad_drift.unlink()
    unknown = steward("serve", "acme/nothing@1")
    assert unknown.exit_code == 2 and "acme/nothing" in unknown.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = steward("serve", "acme/churn@1", "--port", str(taken.getsockname()[1]), "--no-events")
    assert busy.exit_code == 2 and "error: cannot serve on 127.0.0.1:" in busy.stderr
