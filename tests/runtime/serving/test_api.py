"""The predict API on a real uvicorn server, with the model in its sandboxed worker and a real event store."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from prometheus_client.parser import text_string_to_metric_families
from sklearn.base import BaseEstimator

from modelsteward.monitoring._privacy import REDACTED, sampled
from modelsteward.runtime.serving import EventPolicy
from modelsteward.settings import Settings
from tests.runtime.serving.conftest import MakeApp
from tests.runtime.serving.server import cpu_ticks, serving, worker_pids
from tests.runtime.serving.store import stored_events

ROWS = [{"age": 1.5, "income": -0.5, "tenure": 2.0}, {"age": -2.0, "income": 0.3, "tenure": -1.0}]


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a metrics page by name and labels, with model and version checked and dropped."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = dict(sample.labels)
            if "model" in labels:
                assert (labels.pop("model"), labels.pop("version")) == ("acme/churn", "1")
            found[sample.name, frozenset(labels.items())] = sample.value
    return found


def test_predictions_are_answered_identified_measured_and_logged(
    make_app: MakeApp, workspace: tuple[Settings, dict[str, BaseEstimator]], tmp_path: Path
) -> None:
    model = workspace[1]["acme/churn"]
    app = make_app("acme/churn@1")
    with serving(app) as url, httpx.Client(base_url=url) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").status_code == 200
        single = client.post("/v1/predict", json={"inputs": ROWS[0]}, headers={"X-Request-ID": "req-1"})
        batch = client.post("/v1/predict", json={"inputs": ROWS, "id": "batch-1"})
        anonymous = client.post("/v1/predict", json={"inputs": [ROWS[1]]})
        described = client.get("/v1/model").json()
        app.state.metrics.set_drift("age", 0.25)
        app.state.metrics.set_kpi("accuracy", 0.875)
        page = client.get("/metrics")
    features = np.asarray([list(row.values()) for row in ROWS])
    expected: list[dict[str, Any]] = [
        {"label": str(label), "scores": {"0": float(p[0]), "1": float(p[1])}}
        for label, p in zip(model.predict(features), model.predict_proba(features), strict=True)
    ]
    assert single.status_code == 200 and single.headers["x-request-id"] == "req-1"
    assert single.json() == {
        "request_id": "req-1",
        "model": "acme/churn",
        "version": 1,
        "outputs": expected[:1],
    }
    assert batch.headers["x-request-id"] == "batch-1" and batch.json()["outputs"] == expected
    timing = dict(entry.split(";dur=") for entry in single.headers.get_list("server-timing"))
    assert set(timing) == {"model", "app"} and 0 < float(timing["model"]) < float(timing["app"])
    generated = anonymous.headers["x-request-id"]
    assert len(generated) == 32 and anonymous.json()["request_id"] == generated
    assert described["adapter"] == "sklearn" and described["classes"] == ["0", "1"]
    assert described["details"]["features"] == 3 and described["version"] == 1

    assert page.headers["content-type"].startswith("text/plain")
    samples = _samples(page.text)
    assert samples["steward_requests_total", frozenset({("route", "/v1/predict"), ("status", "2xx")})] == 3
    assert samples["steward_predictions_total", frozenset()] == 4
    assert samples["steward_request_duration_seconds_count", frozenset({("route", "/v1/predict")})] == 3
    assert samples["steward_model_call_duration_seconds_count", frozenset()] == 3
    assert samples["steward_drift_score", frozenset({("column", "age")})] == 0.25
    assert samples["steward_kpi", frozenset({("name", "accuracy")})] == 0.875
    assert samples["steward_worker_up", frozenset()] == 1
    assert not any(name == "steward_errors_total" for name, _ in samples)

    events = stored_events(tmp_path / "events", "acme/churn")
    assert set(events) == {"req-1", "batch-1/0", "batch-1/1", generated}
    assert events["batch-1/1"].inputs == ROWS[1]
    assert events["batch-1/1"].outputs == {
        "label": expected[1]["label"],
        "score": max(expected[1]["scores"].values()),
    }
    assert all(e.model == "acme/churn" and e.version == 1 and e.error is None for e in events.values())
    assert all(e.latency_ms is not None and e.latency_ms > 0 for e in events.values())


def test_bad_requests_are_refused_with_the_problem_named(make_app: MakeApp, tmp_path: Path) -> None:
    app = make_app("acme/churn@1", max_body_bytes=2048)
    cases = [
        (b"{not json", 400, "not valid JSON"),
        (b'{"rows": []}', 422, "unknown field(s) 'rows'"),
        (b'{"inputs": []}', 422, "non-empty list of rows"),
        (
            b'{"inputs": {"age": "old", "income": 1, "tenure": 2}}',
            422,
            "inputs[0].age must be a finite number",
        ),
        (b'{"inputs": [{"age": 1, "income": 1, "tenure": 2}, {"age": 1}]}', 422, "inputs[1] names features"),
        (b'{"inputs": {"age": 1, "income": 1}}', 422, "the model takes 3 features; the rows give 2"),
        (b'{"inputs": {"age": 1}, "operation": "embed"}', 422, "`operation` must be one the model offers"),
        (b'{"inputs": [' + b'{"age": 1},' * 300 + b"]}", 413, "3314 bytes; at most 2048 are accepted"),
    ]
    with serving(app) as url, httpx.Client(base_url=url) as client:
        answers = [client.post("/v1/predict", content=body) for body, _, _ in cases]
        # Without a declared length the body is counted as it arrives.
        chunked = client.post("/v1/predict", content=iter([b'{"inputs": [', b'{"age": 1},' * 300, b"]}"]))
        # A text to a tabular model gets past parsing: the model itself fails, and says why.
        failed = client.post(
            "/v1/predict", json={"inputs": {"text": "hello"}}, headers={"X-Request-ID": "txt"}
        )
        missing = client.get("/no/such/path")
        page = client.get("/metrics").text
    for answer, (_, status, message) in zip(answers, cases, strict=True):
        assert answer.status_code == status, answer.text
        assert message in answer.json()["error"]["message"]
        assert answer.json()["request_id"] == answer.headers["x-request-id"]
    assert chunked.status_code == 413 and "exceeds 2048 bytes" in chunked.json()["error"]["message"]
    assert failed.status_code == 500
    assert failed.json()["error"]["reason"] == "model_error"
    assert failed.json()["error"]["message"].startswith("the model failed: ValueError: Expected 2D array")
    assert missing.status_code == 404
    samples = _samples(page)
    assert samples["steward_errors_total", frozenset({("reason", "bad_request")})] == 7
    assert samples["steward_errors_total", frozenset({("reason", "too_large")})] == 2
    assert samples["steward_errors_total", frozenset({("reason", "model_error")})] == 1
    assert samples["steward_requests_total", frozenset({("route", "unmatched"), ("status", "4xx")})] == 1
    events = stored_events(tmp_path / "events", "acme/churn")
    assert list(events) == ["txt"]  # refused input is no prediction; the model's failure is logged
    assert events["txt"].inputs == {"text": "hello"} and "ValueError" in (events["txt"].error or "")


def test_a_killed_worker_fails_the_request_in_flight_and_is_replaced(make_app: MakeApp) -> None:
    app = make_app("acme/slow@1")
    rows = np.random.default_rng(1).normal(size=(6000, 3)).round(3)
    heavy = {"inputs": [dict(zip(("age", "income", "tenure"), row.tolist(), strict=True)) for row in rows]}
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        (pid,) = worker_pids()
        idle = cpu_ticks(pid)
        answer: list[httpx.Response] = []
        request = threading.Thread(target=lambda: answer.append(client.post("/v1/predict", json=heavy)))
        request.start()
        while cpu_ticks(pid) < idle + 10:  # the worker is busy with the batch: it is in flight
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        request.join()
        # The next request waits for the replacement worker and is answered.
        after = client.post("/v1/predict", json={"inputs": ROWS[0]})
        ready = client.get("/readyz")
        page = client.get("/metrics").text
        replacement = worker_pids()
    (failed,) = answer
    assert failed.status_code == 503
    assert failed.json()["error"]["reason"] == "worker_crashed"
    assert "worker died during the request" in failed.json()["error"]["message"]
    assert "SIGKILL" in failed.json()["error"]["message"]
    assert after.status_code == 200 and ready.status_code == 200
    assert replacement and replacement != [pid]
    restarts = [
        s
        for f in text_string_to_metric_families(page)
        for s in f.samples
        if s.name == "steward_worker_restarts_total"
    ]
    assert [s.value for s in restarts] == [1]


def test_a_slow_prediction_times_out_and_the_server_recovers(make_app: MakeApp) -> None:
    app = make_app("acme/slow@1", timeout=0.2)
    rows = np.random.default_rng(2).normal(size=(6000, 3)).round(3)
    heavy = {"inputs": [dict(zip(("age", "income", "tenure"), row.tolist(), strict=True)) for row in rows]}
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        slow = client.post("/v1/predict", json=heavy)
        while client.get("/readyz").status_code != 200:
            time.sleep(0.05)
        after = client.post("/v1/predict", json={"inputs": ROWS[0]})
    assert slow.status_code == 504
    assert slow.json()["error"]["reason"] == "timeout"
    assert (
        "did not answer" in slow.json()["error"]["message"] or "deadline" in slow.json()["error"]["message"]
    )
    assert after.status_code == 200


def test_sampled_requests_are_logged_with_redacted_inputs(make_app: MakeApp, tmp_path: Path) -> None:
    app = make_app("acme/churn@1", policy=EventPolicy(sample_rate=0.5, redact=frozenset({"income"})))
    ids = [f"r{n}" for n in range(40)]
    with serving(app) as url, httpx.Client(base_url=url) as client:
        answers = [client.post("/v1/predict", json={"inputs": ROWS[0], "id": i}) for i in ids]
    assert all(a.status_code == 200 for a in answers)
    events = stored_events(tmp_path / "events", "acme/churn")
    kept = {i for i in ids if sampled(i, 0.5)}
    assert 0 < len(kept) < len(ids)
    assert set(events) == kept
    assert all(e.inputs == {"age": 1.5, "income": REDACTED, "tenure": 2.0} for e in events.values())
