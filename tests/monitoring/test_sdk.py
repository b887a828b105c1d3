"""The logging SDK against a real event store: buffering, flushing, threads, sampling and redaction."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from modelsteward.monitoring import Event
from modelsteward.monitoring._privacy import REDACTED, redact, sampled
from modelsteward.monitoring._sdk import EventLogger, flush, log, log_label, logger
from modelsteward.monitoring._store import EventStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_logged_predictions_and_labels_reach_the_store_on_flush(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    with EventLogger(store, interval=3600) as sdk:
        request_id = sdk.log(
            model="m", version=2, inputs={"x": 1.5}, outputs={"label": "cat"}, latency_ms=3.0
        )
        sdk.log(model="m", version=2, inputs={"x": 2.5}, outputs={"label": "dog"}, request_id="given", at=T0)
        assert store.read("m").num_rows == 0  # buffered
        assert sdk.flush() == 2
        sdk.log_label(model="m", request_id=request_id, label="cat")
    rows = {row["request_id"]: row for row in store.read("m").to_pylist()}
    assert set(rows) == {request_id, "given"}
    assert (rows[request_id]["input.x"], rows[request_id]["label"], rows[request_id]["latency_ms"]) == (
        1.5,
        "cat",
        3.0,
    )
    assert (rows["given"]["at"], rows["given"]["label"]) == (T0, None)
    with pytest.raises(RuntimeError, match="closed"):
        sdk.log(model="m", version=2, inputs={}, outputs={})


def test_a_failed_write_keeps_the_events_for_the_next_flush(tmp_path: Path) -> None:
    root = tmp_path / "events"
    root.write_text("a file where the store's folder should be", encoding="utf-8")
    store = EventStore(root)
    sdk = EventLogger(store, interval=3600)
    sdk.log(model="m", version=1, inputs={"x": 1}, outputs={}, request_id="kept")
    sdk.log_label(model="m", request_id="kept", label="yes")
    with pytest.raises(OSError):
        sdk.flush()
    root.unlink()
    sdk.close()
    assert store.read("m").select(["request_id", "label"]).to_pylist() == [
        {"request_id": "kept", "label": "yes"}
    ]


def test_a_full_buffer_is_written_by_the_background_thread(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    with EventLogger(store, max_events=10, interval=3600) as sdk:
        for i in range(10):
            sdk.log(model="m", version=1, inputs={"i": i}, outputs={})
        # Waits for the writer thread (bounded), without asserting how long it took.
        for _ in range(500):
            if store.read("m").num_rows == 10:
                break
            time.sleep(0.01)
        assert store.read("m").num_rows == 10


def test_threads_logging_at_once_lose_nothing(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    with EventLogger(store, max_events=200, interval=0.05) as sdk:

        def client(thread: int) -> None:
            for i in range(500):
                sdk.log(model="m", version=1, inputs={"i": i}, outputs={}, request_id=f"{thread}-{i}")

        threads = [threading.Thread(target=client, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    ids = store.read("m", columns=["request_id"])["request_id"].to_pylist()
    assert len(ids) == len(set(ids)) == 4000


def test_the_default_logger_writes_to_the_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "home"))
    request_id = log(model="org/m", version=1, inputs={"text": "hi"}, outputs={"label": 1})
    log_label(model="org/m", request_id=request_id, label=1)
    flush()
    table = EventStore(tmp_path / "home" / "events").read("org/m")
    assert table.select(["request_id", "label"]).to_pylist() == [{"request_id": request_id, "label": "1"}]
    assert logger() is logger(tmp_path / "home" / "events")
    logger().close()


def test_sampling_and_redaction_apply_before_the_store(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    with EventLogger(store, sample_rate=0.5, redact={"email"}) as sdk:
        ids = [
            sdk.log(model="m", version=1, inputs={"email": "a@b.c", "x": i}, outputs={}) for i in range(400)
        ]
    table = store.read("m")
    assert sorted(table["request_id"].to_pylist()) == sorted(i for i in ids if sampled(i, 0.5))
    assert 150 < table.num_rows < 250
    assert set(table["input.email"].to_pylist()) == {REDACTED}
    with pytest.raises(ValueError, match="between 0 and 1"):
        EventLogger(store, sample_rate=1.5)


def test_sampling_is_decided_by_the_request_id_alone() -> None:
    ids = [f"req-{i}" for i in range(10_000)]
    kept = [i for i in ids if sampled(i, 0.1)]
    assert kept == [i for i in ids if sampled(i, 0.1)]
    assert 900 < len(kept) < 1100
    assert all(sampled(i, 1.0) for i in ids[:10]) and not any(sampled(i, 0.0) for i in ids[:10])
    # A request kept at a lower rate is kept at every higher one.
    assert set(kept) <= {i for i in ids if sampled(i, 0.2)}


def test_redact_replaces_the_named_inputs_only() -> None:
    event = Event("r", "m", 1, T0, inputs={"email": "a@b.c", "age": 30}, outputs={"email": "kept"})
    hidden = redact(event, {"email", "phone"})
    assert dict(hidden.inputs) == {"email": REDACTED, "age": 30}
    assert dict(hidden.outputs) == {"email": "kept"}
    assert event.inputs["email"] == "a@b.c"
    assert redact(event, {"phone"}) is event
