"""The logging SDK, for models served outside ModelSteward: ``log(...)`` each prediction, ``log_label``
the ground truth when it arrives.

Events are buffered and written in batches: when ``max_events`` have gathered, every ``interval``
seconds, on :func:`flush`, and when the process exits. The module-level functions use one default
:class:`EventLogger` per store, created on first use and closed at exit: the one piece of global state,
kept because an SDK call must not need setup. Code that wants no global state makes its own logger.
"""

from __future__ import annotations

import atexit
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from modelsteward.monitoring._event import Event, Value
from modelsteward.monitoring._privacy import redact, sampled
from modelsteward.monitoring._store import EventStore, label_text
from modelsteward.settings import Settings

_log = logging.getLogger(__name__)


class EventLogger:
    """Buffers events and labels for one event store and writes them in batches from a thread of its own."""

    def __init__(
        self,
        store: EventStore,
        *,
        max_events: int = 1000,
        interval: float = 5.0,
        sample_rate: float = 1.0,
        redact: Collection[str] = (),
    ) -> None:
        """Log into ``store``; write once ``max_events`` are buffered or every ``interval`` seconds.

        ``sample_rate`` keeps that share of requests (by request id, as the server does); the inputs
        named in ``redact`` are stored as ``[redacted]``.
        """
        if max_events < 1 or interval <= 0:
            raise ValueError(
                f"max_events must be at least 1 and interval above 0 (got {max_events}, {interval:g})"
            )
        sampled("", sample_rate)  # refuses a rate outside 0 to 1 now, not on the first event
        self.store = store
        self._max_events = max_events
        self._interval = interval
        self._rate = sample_rate
        self._redact = frozenset(redact)
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._labels: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="steward-sdk-writer", daemon=True)
        self._thread.start()

    def log(
        self,
        *,
        model: str,
        version: int,
        inputs: Mapping[str, Value],
        outputs: Mapping[str, Value],
        latency_ms: float | None = None,
        request_id: str | None = None,
        at: datetime | None = None,
        error: str | None = None,
    ) -> str:
        """Buffer one prediction; return its request id (a new UUID unless given), logged or sampled out."""
        request_id = request_id or uuid.uuid4().hex
        event = Event(
            request_id=request_id,
            model=model,
            version=version,
            at=at or datetime.now(UTC),
            inputs=inputs,
            outputs=outputs,
            latency_ms=latency_ms,
            error=error,
        )
        if sampled(request_id, self._rate):
            with self._lock:
                self._check_open()
                self._events.append(redact(event, self._redact))
                full = len(self._events) >= self._max_events
            if full:
                self._wake.set()
        return request_id

    def log_label(self, *, model: str, request_id: str, label: str | int | bool) -> None:
        """Buffer the ground truth of the prediction ``request_id`` of ``model``."""
        if not request_id:
            raise ValueError("a label needs the request id of its prediction")
        with self._lock:
            self._check_open()
            self._labels[model].append((request_id, label_text(label)))

    def flush(self) -> int:
        """Write everything buffered now; return how many events were written.

        What a failed write held stays buffered, to be tried again, and the error is raised.
        """
        with self._lock:
            events, self._events = self._events, []
            labels, self._labels = self._labels, defaultdict(list)
        try:
            written = self.store.append(events) if events else 0
        except Exception:
            self._keep(events, labels)
            raise
        for model in list(labels):
            ids, values = zip(*labels[model], strict=True)
            try:
                self.store.add_labels(model, pa.table({"request_id": list(ids), "label": list(values)}))
            except Exception:
                self._keep([], labels)
                raise
            del labels[model]
        return written

    def close(self) -> None:
        """Write everything buffered and stop the writer thread; idempotent."""
        with self._lock:
            self._closed = True
        self._wake.set()
        self._thread.join()
        self.flush()

    def __enter__(self) -> EventLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _keep(self, events: list[Event], labels: Mapping[str, list[tuple[str, str]]]) -> None:
        """Put back what a failed write held, before what was buffered since."""
        with self._lock:
            self._events[:0] = events
            for model, rows in labels.items():
                self._labels[model][:0] = rows

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this event logger is closed")

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            with self._lock:
                closed = self._closed
            if closed:
                return  # close() writes what is left, on the caller's thread
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the events stay buffered; the next flush tries again
                _log.exception("prediction events could not be written to %s; will retry", self.store.root)


_defaults: dict[Path, EventLogger] = {}
_defaults_lock = threading.Lock()


def logger(store: EventStore | Path | None = None) -> EventLogger:
    """The default logger of ``store`` (an event store, its folder, or by default the workspace's:
    ``$STEWARD_HOME/events``), created on first use and closed when the process exits."""
    if isinstance(store, EventStore):
        root = store.root
    else:
        root = store if store is not None else Settings.from_env().events
    root = root.absolute()
    with _defaults_lock:
        if not _defaults:
            atexit.register(_close_defaults)
        if root not in _defaults:
            _defaults[root] = EventLogger(store if isinstance(store, EventStore) else EventStore(root))
        return _defaults[root]


def log(
    *,
    model: str,
    version: int,
    inputs: Mapping[str, Value],
    outputs: Mapping[str, Value],
    latency_ms: float | None = None,
    request_id: str | None = None,
    at: datetime | None = None,
    error: str | None = None,
    store: EventStore | Path | None = None,
) -> str:
    """Log one prediction of ``model`` at ``version`` through the default logger of ``store``
    (see :func:`logger`); return its request id, for :func:`log_label` later."""
    return logger(store).log(
        model=model,
        version=version,
        inputs=inputs,
        outputs=outputs,
        latency_ms=latency_ms,
        request_id=request_id,
        at=at,
        error=error,
    )


def log_label(
    *, model: str, request_id: str, label: str | int | bool, store: EventStore | Path | None = None
) -> None:
    """Log the ground truth of the prediction ``request_id`` of ``model`` (see :func:`logger`)."""
    logger(store).log_label(model=model, request_id=request_id, label=label)


def flush() -> None:
    """Write what every default logger has buffered."""
    with _defaults_lock:
        loggers = list(_defaults.values())
    for each in loggers:
        each.flush()


def _close_defaults() -> None:
    with _defaults_lock:
        loggers = list(_defaults.values())
        _defaults.clear()
    for each in loggers:
        each.close()
