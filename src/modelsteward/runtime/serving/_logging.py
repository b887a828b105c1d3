"""The event sink of a server: a bounded queue drained into the event store by one background thread.

A request hands its events over and returns; the thread gathers events for up to half a second (or 4,096
events) and writes them in one ``append``, so the store gets few large files, not one per request, and
the request never waits for a disk. A full queue makes a request wait (back-pressure) up to its deadline,
never drops an event silently. :meth:`EventWriter.close` writes everything still queued: an acknowledged
prediction is in the store once the server has shut down gracefully. What a crash (SIGKILL, power loss)
loses is what sat in the queue at that moment: about the last half second of predictions.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from modelsteward.monitoring import Event

_BATCH_EVENTS = 4096
"""The most events one ``append`` is given: bounds the memory of one write."""


class EventSink(Protocol):
    """Where events go: the monitoring event store, or anything that stores them the same way."""

    def append(self, events: Sequence[Event]) -> int:
        """Store ``events``; return how many were stored."""
        ...


class EventLogFull(Exception):  # noqa: N818 - names the state, as the API reports it
    """The queue stayed full until the request's deadline: the store cannot keep up."""


class EventWriter:
    """Writes submitted events to a sink on a thread of its own; use as a context manager."""

    def __init__(
        self,
        sink: EventSink,
        *,
        capacity: int = 10_000,
        linger: float = 0.5,
        on_written: Callable[[int, int], None] | None = None,
    ) -> None:
        """``capacity`` bounds the queued requests; a write waits up to ``linger`` seconds for more events
        (fewer, larger files); ``on_written(written, failed)`` follows each append."""
        self._sink = sink
        self._linger = linger
        self._queue: queue.Queue[Sequence[Event] | None] = queue.Queue(maxsize=capacity)
        self._on_written = on_written
        self._thread = threading.Thread(target=self._drain, name="steward-event-writer", daemon=True)
        self._closed = False
        self._thread.start()

    def submit(self, events: Sequence[Event], timeout: float) -> None:
        """Queue ``events``; wait up to ``timeout`` seconds for room, else raise :class:`EventLogFull`."""
        if self._closed:
            raise EventLogFull("the event log is closed: the server is shutting down")
        if not events:
            return
        try:
            self._queue.put(events, timeout=max(timeout, 0.0))
        except queue.Full:
            raise EventLogFull("the event log is full: the event store cannot keep up") from None

    def close(self) -> None:
        """Write every queued event, then stop the thread; idempotent."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        self._thread.join()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _drain(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            pending, count = [first], len(first)
            # Gather for a moment: each write makes a file, and the store wants few large ones.
            until = time.monotonic() + self._linger
            while count < _BATCH_EVENTS:
                try:
                    more = self._queue.get(timeout=max(until - time.monotonic(), 0.0))
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                pending.append(more)
                count += len(more)
            self._write(pending)

    def _write(self, requests: list[Sequence[Event]]) -> None:
        try:
            written = self._sink.append([event for events in requests for event in events])
        except Exception as error:  # noqa: BLE001 - the writer outlives a failed write, and says so
            if len(requests) > 1:
                # The store refuses a whole batch for one bad event: one request each loses only its own.
                for events in requests:
                    self._write([events])
                return
            print(f"steward serve: {len(requests[0])} events were not stored: {error}", file=sys.stderr)
            written = 0
        if self._on_written is not None:
            self._on_written(written, sum(map(len, requests)) - written)
