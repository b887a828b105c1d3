"""The worker side: the handler the sandboxed worker runs, loading one model and predicting its batches."""

from __future__ import annotations

import resource
from collections.abc import Callable
from dataclasses import dataclass

from modelsteward.checks.performance.adapters._base import Adapter, AdapterError
from modelsteward.checks.performance.adapters._codec import (
    decode_batch,
    decode_load,
    description_to_header,
    encode_error,
    encode_prediction,
)
from modelsteward.checks.performance.adapters._detect import detect_adapter
from modelsteward.checks.performance.adapters._registry import create_adapter
from modelsteward.runtime.sandbox import Message


@dataclass(slots=True)
class _Worker:
    """The one model this worker process serves, once loaded."""

    adapter: Adapter | None = None

    def __call__(self, request: Message) -> Message:
        """Answer one request; a failure becomes an ``error`` reply. Every reply says the worker's peak
        resident memory so far (``peak_rss``, bytes), which the evaluation reports."""
        reply = self._answer(request)
        return Message({**reply.header, "peak_rss": _peak_rss()}, reply.arrays)

    def _answer(self, request: Message) -> Message:
        try:
            if request.header.get("op") == "load":
                return self._load(request)
            if request.header.get("op") == "predict":
                return self._predict(request)
            raise AdapterError(f"unknown request {request.header.get('op')!r}; expected load or predict")
        except AdapterError as error:
            return encode_error(str(error))
        except Exception as error:  # noqa: BLE001 - a model library's failure is a reply, the worker lives on
            return encode_error(f"{type(error).__name__}: {error}")

    def _load(self, request: Message) -> Message:
        if self.adapter is not None:
            raise AdapterError("a model is already loaded; a worker serves one model")
        load = decode_load(request)
        options = dict(load.options)
        name = load.adapter
        if name is None:
            detection = detect_adapter(load.root)
            name, options = detection.adapter, {**detection.options, **options}
        adapter = create_adapter(name)
        description = adapter.load(load.root, options)
        self.adapter = adapter
        return Message(description_to_header(description))

    def _predict(self, request: Message) -> Message:
        if self.adapter is None:
            raise AdapterError("no model is loaded; send a load request first")
        return encode_prediction(self.adapter.predict(decode_batch(request)))


def _peak_rss() -> int:
    # Linux reports the high-water mark of the resident set in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def handler() -> Callable[[Message], Message]:
    """A handler for one worker: ``{"op": "load", ...}`` first, then any number of ``{"op": "predict", ...}``.

    Every failure becomes a reply with an ``error`` text, so a bad request never ends the worker.
    """
    return _Worker()
