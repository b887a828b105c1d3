"""A loaded model the evaluation talks to: a sandboxed worker, or an endpoint that already serves it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from modelsteward.checks.performance.adapters import (
    AdapterError,
    Batch,
    EndpointAdapter,
    ModelDescription,
    Prediction,
    decode_prediction,
    description_from_header,
    encode_batch,
)
from modelsteward.runtime.sandbox import (
    Isolation,
    Message,
    SandboxConfig,
    Worker,
    WorkerError,
    start_worker,
)

# The worker-side handler of the adapters, imported inside the sandbox.
_ENTRYPOINT = "modelsteward.checks.performance.adapters._serve:handler"


class EvaluationError(Exception):
    """The model could not be loaded or run; the message says why, the worker's last words included."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A model to evaluate: files to load in the sandbox, or an endpoint that serves it."""

    label: str
    """How reports name it (``minilm@2``, an endpoint's model name)."""
    root: Path | None = None
    """The model's files (a snapshot); None for an endpoint."""
    adapter: str | None = None
    """The adapter to load the files with; None picks one by the files' content."""
    adapter_options: Mapping[str, Any] | None = None
    """JSON options for loading the model (``file``, ``threads``, ``normalize``, ...): see each adapter."""
    endpoint: EndpointAdapter | None = None
    """An OpenAI-compatible endpoint, used in place of files."""
    size_bytes: int | None = None
    """The model's size on disk, where it is known."""


class Session(AbstractContextManager["Session"]):
    """One loaded copy of a candidate; ``predict`` runs one batch and says how long it took."""

    def __init__(self, candidate: Candidate, sandbox: SandboxConfig) -> None:
        started = time.perf_counter()
        self._worker: Worker | None = None
        self._endpoint = candidate.endpoint
        self.peak_memory: int | None = None
        """The worker's peak resident memory in bytes, as it last reported it."""
        if candidate.endpoint is not None:
            self.isolation = "endpoint"
            self.description = candidate.endpoint.describe()
            self.start_seconds = 0.0
        else:
            if candidate.root is None:
                raise EvaluationError(f"{candidate.label}: neither model files nor an endpoint to evaluate")
            self._worker, self.description = _load(candidate, candidate.root, sandbox)
            self.isolation = str(self._worker.isolation)
            self.start_seconds = self._worker.started_in
        self.load_seconds = time.perf_counter() - started
        """From asking for the model to holding it: worker start, imports and loading the weights."""

    def predict(self, batch: Batch) -> tuple[Prediction, float]:
        """Run ``batch``; return the prediction and the seconds the call took, as a client sees them."""
        started = time.perf_counter()
        if self._endpoint is not None:
            try:
                prediction = self._endpoint.predict(batch)
            except AdapterError as error:
                raise EvaluationError(str(error)) from None
            return prediction, time.perf_counter() - started
        if self._worker is None:
            raise EvaluationError("the model's session is closed")
        reply = _call(self._worker, encode_batch(batch))
        seconds = time.perf_counter() - started
        self._note_memory(reply)
        try:
            return decode_prediction(reply, batch), seconds
        except AdapterError as error:
            # The model's own failure (its library raised), or a reply that breaks the protocol.
            what = (
                "the model failed"
                if "error" in reply.header
                else "the worker's reply is not a valid prediction"
            )
            raise EvaluationError(f"{what}: {error}") from None

    def _note_memory(self, reply: Message) -> None:
        peak = reply.header.get("peak_rss")
        if isinstance(peak, int) and peak > 0:
            self.peak_memory = max(self.peak_memory or 0, peak)

    def close(self) -> None:
        """Stop the worker, if any; idempotent."""
        if self._worker is not None:
            self._worker.close()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _load(candidate: Candidate, root: Path, sandbox: SandboxConfig) -> tuple[Worker, ModelDescription]:
    try:
        worker = start_worker(_ENTRYPOINT, model_root=root, config=sandbox)
    except WorkerError as error:
        raise EvaluationError(f"{candidate.label}: the sandboxed worker did not start: {error}") from None
    request = {
        "op": "load",
        "adapter": candidate.adapter,
        "root": str(root),
        "options": dict(candidate.adapter_options or {}),
    }
    try:
        reply = _call(worker, Message(request))
        return worker, description_from_header(reply.header)
    except (EvaluationError, AdapterError) as error:
        worker.close()
        raise EvaluationError(f"{candidate.label}: cannot load the model: {error}") from None


def _call(worker: Worker, message: Message) -> Message:
    try:
        return worker.call(message)
    except WorkerError as error:
        raise EvaluationError(str(error)) from None


__all__ = ["Candidate", "EvaluationError", "Isolation", "Session"]
