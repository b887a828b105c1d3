"""The served model: one sandboxed worker, called by one request at a time, restarted when it dies.

Calls are serialised on a lock (one worker, one model copy): the adapters' worker answers one message at
a time, and a second worker would double the memory for little gain on the small models served here.
A request waits for the lock no longer than its deadline. When the worker crashes, overruns a deadline
or breaks the protocol, the request in flight fails (:class:`WorkerLostError`, :class:`DeadlineError`)
and a new worker is started; requests that arrive meanwhile wait for it, up to their deadlines.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelsteward.checks.performance.adapters import (
    AdapterError,
    Batch,
    ModelDescription,
    Prediction,
    decode_prediction,
    description_from_header,
    encode_batch,
    encode_load,
)
from modelsteward.runtime.sandbox import SandboxConfig, Worker, WorkerError, start_worker

# The worker-side handler of the adapters, imported inside the sandbox.
_ENTRYPOINT = "modelsteward.checks.performance.adapters._serve:handler"


class ServingError(Exception):
    """A prediction failed; subclasses say how, the message says why."""


class ModelError(ServingError):
    """The model raised, or answered something that is not a prediction; the worker lives on."""


class DeadlineError(ServingError):
    """No answer before the request's deadline; a worker that was answering has been replaced."""


class WorkerLostError(ServingError):
    """The worker died (or is being restarted) while the request needed it."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What to load into each worker, first and after every restart."""

    root: Path
    """The verified model files, mounted read-only in the sandbox."""
    sandbox: SandboxConfig
    """Isolation and resource limits of the worker."""
    adapter: str | None = None
    """The adapter to load the files with; None picks one by the files' content."""
    adapter_options: Mapping[str, Any] | None = None
    """JSON options for loading the model (see each adapter)."""


class SandboxedModel:
    """One worker holding the model; thread-safe, calls serialised. Use as a context manager.

    Workers are started by one supervising thread that lives as long as this object: the sandbox ends a
    worker when the thread that spawned it ends, so no short-lived request thread may spawn one.
    """

    def __init__(self, spec: ModelSpec, *, on_restart: Callable[[], None] | None = None) -> None:
        """Start the worker and load the model; raises :class:`ServingError` when either fails."""
        self._spec = spec
        self._on_restart = on_restart
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._worker: Worker | None = None
        self._first: queue.Queue[ModelDescription | ServingError] = queue.Queue(maxsize=1)
        self._supervisor = threading.Thread(target=self._supervise, name="steward-worker", daemon=True)
        self._supervisor.start()
        first = self._first.get()
        if isinstance(first, ServingError):
            self._supervisor.join()
            raise first
        self.description: ModelDescription = first
        """What the adapter said about the model it loaded."""

    @property
    def ready(self) -> bool:
        """True while a live worker holds the model."""
        return self._worker is not None and not self._closed

    def predict(self, batch: Batch, deadline: float) -> tuple[Prediction, float]:
        """Run ``batch`` before ``deadline`` (``time.monotonic``); return it and the call's seconds."""
        if not self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            if self._worker is None:
                raise WorkerLostError(
                    "the model's worker is being restarted and was not back by the deadline"
                )
            raise DeadlineError("the model was busy with other requests until the deadline")
        try:
            worker = self._worker
            if self._closed or worker is None:
                raise WorkerLostError(
                    "the model's worker is not running (it is being restarted); retry shortly"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineError("the deadline passed while the request waited for the model")
            started = time.perf_counter()
            try:
                reply = worker.call(encode_batch(batch), timeout=remaining)
            except WorkerError as error:
                if error.reason in ("error", "out-of-memory"):
                    raise ModelError(f"the model failed: {error}") from None
                self._replace()
                if error.reason == "timeout":
                    raise DeadlineError(f"the model did not answer in time: {error}") from None
                raise WorkerLostError(
                    f"the model's worker died during the request and is being restarted: {error}"
                ) from None
            seconds = time.perf_counter() - started
        finally:
            self._lock.release()
        try:
            return decode_prediction(reply, batch), seconds
        except AdapterError as error:
            raise ModelError(f"the model failed: {error}") from None

    def _replace(self) -> None:
        """Drop the dead worker (the lock is held) and have the supervisor start its successor."""
        if self._worker is not None:
            self._worker.close()
        self._worker = None
        self._wake.set()

    def _supervise(self) -> None:
        try:
            worker, description = _start(self._spec)
        except ServingError as error:
            self._first.put(error)
            return
        self._worker = worker
        self._first.put(description)
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                if self._closed:
                    if self._worker is not None:
                        self._worker.close()
                        self._worker = None
                    return
                if self._worker is None:
                    self._restart()

    def _restart(self) -> None:
        while not self._closed:
            try:
                self._worker, _ = _start(self._spec)
            except ServingError:
                # A model that loaded once may fail to load again only transiently (memory, a slow
                # disk); retry after a pause rather than serve nothing for ever.
                time.sleep(1.0)
                continue
            if self._on_restart is not None:
                self._on_restart()
            return

    def close(self) -> None:
        """Stop the worker; idempotent."""
        self._closed = True
        self._wake.set()
        self._supervisor.join()

    def __enter__(self) -> SandboxedModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _start(spec: ModelSpec) -> tuple[Worker, ModelDescription]:
    try:
        worker = start_worker(_ENTRYPOINT, model_root=spec.root, config=spec.sandbox)
    except WorkerError as error:
        raise ServingError(f"the sandboxed worker did not start: {error}") from None
    try:
        reply = worker.call(encode_load(spec.adapter, spec.root, spec.adapter_options or {}))
        return worker, description_from_header(reply.header)
    except (WorkerError, AdapterError) as error:
        worker.close()
        raise ServingError(f"cannot load the model: {error}") from None
