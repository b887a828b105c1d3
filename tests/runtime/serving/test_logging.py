"""The event writer: batches into the sink on its own thread, waits when full, writes all on close."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from modelsteward.monitoring import Event
from modelsteward.monitoring._store import EventStore
from modelsteward.runtime.serving import EventLogFull, EventPolicy, EventWriter
from modelsteward.runtime.serving._record import request_events

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _events(name: str, rows: int = 1) -> list[Event]:
    return request_events(
        request_id=name,
        model="acme/m",
        version=3,
        at=AT,
        inputs=[{"x": float(n), "secret": "s"} for n in range(rows)],
        outputs=[{"label": "a"}] * rows,
        latency_seconds=0.002,
        error=None,
        policy=EventPolicy(redact=frozenset({"secret"})),
    )


class _GatedSink:
    """Stores what it is given, but only once the gate opens: the writer's queue fills meanwhile."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()

    def append(self, events: Sequence[Event]) -> int:
        self.entered.set()
        self.gate.wait()
        self.batches.append([e.request_id for e in events])
        return len(events)


def test_events_queued_before_close_are_all_written_in_batches() -> None:
    sink = _GatedSink()
    counted: list[tuple[int, int]] = []
    writer = EventWriter(
        sink, capacity=100, on_written=lambda written, failed: counted.append((written, failed))
    )
    for n in range(50):
        writer.submit(_events(f"r{n}", rows=2), timeout=1.0)
    sink.gate.set()
    writer.close()
    written = [name for batch in sink.batches for name in batch]
    assert written == [f"r{n}/{row}" for n in range(50) for row in range(2)]
    assert len(sink.batches) < 50  # what gathered while the sink was busy went in one append
    assert sum(w for w, _ in counted) == 100 and all(f == 0 for _, f in counted)
    with pytest.raises(EventLogFull, match="closed"):
        writer.submit(_events("late"), timeout=0.0)


def test_a_full_queue_refuses_after_the_timeout_and_loses_nothing_queued() -> None:
    sink = _GatedSink()
    writer = EventWriter(sink, capacity=2)
    writer.submit(_events("a"), timeout=1.0)
    sink.entered.wait()  # the thread holds "a" and waits on the sink: the queue is empty again
    writer.submit(_events("b"), timeout=1.0)
    writer.submit(_events("c"), timeout=1.0)
    with pytest.raises(EventLogFull, match="cannot keep up"):
        writer.submit(_events("d"), timeout=0.05)
    sink.gate.set()
    writer.close()
    assert [name for batch in sink.batches for name in batch] == ["a", "b", "c"]


def test_a_request_the_store_refuses_loses_only_its_own_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gate, entered = threading.Event(), threading.Event()
    store = EventStore(tmp_path)
    counted: list[tuple[int, int]] = []

    class Held:
        """The real store, held shut until every request is queued: they reach it as one batch."""

        def append(self, events: Sequence[Event]) -> int:
            entered.set()
            gate.wait()
            return store.append(events)

    with EventWriter(Held(), on_written=lambda w, f: counted.append((w, f))) as writer:
        writer.submit(_events("first"), timeout=1.0)
        entered.wait()  # "first" is held alone; the next three requests will reach the store together
        writer.submit(_events("ok", rows=2), timeout=1.0)
        # A column that is a number in one row and text in the other: the store refuses any batch holding it.
        mixed = _events("bad", rows=2)
        writer.submit([mixed[0], replace(mixed[1], inputs={"x": "text"})], timeout=1.0)
        writer.submit(_events("after"), timeout=1.0)
        gate.set()
    kept = store.read("acme/m").column("request_id").to_pylist()
    assert sorted(kept) == ["after", "first", "ok/0", "ok/1"]
    assert (sum(w for w, _ in counted), sum(f for _, f in counted)) == (4, 2)
    assert "2 events were not stored: column 'input.x' mixes" in capsys.readouterr().err


def test_events_split_rows_and_redact_inputs() -> None:
    events = _events("req", rows=2)
    assert [e.request_id for e in events] == ["req/0", "req/1"]
    assert dict(events[1].inputs) == {"x": 1.0, "secret": "[redacted]"}
    assert events[0].latency_ms == pytest.approx(2.0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        EventPolicy(sample_rate=1.5)
