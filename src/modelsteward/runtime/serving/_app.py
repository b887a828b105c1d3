"""The HTTP face of a served model: predict, describe, health, readiness and metrics (FastAPI).

The app only parses, calls and answers: the model runs in :class:`SandboxedModel` (called off the event
loop, on Starlette's thread pool), events go through :class:`EventWriter`, numbers into
:class:`ServingMetrics`. The app owns both once made: its shutdown writes every queued event, then
stops the worker.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from modelsteward._body_limit import BodyLimit
from modelsteward.runtime.serving._logging import EventLogFull, EventSink, EventWriter
from modelsteward.runtime.serving._metrics import CONTENT_TYPE, ErrorReason, ServingMetrics
from modelsteward.runtime.serving._payload import (
    PayloadError,
    PredictRequest,
    logged_outputs,
    outputs,
    parse_request,
)
from modelsteward.runtime.serving._pool import (
    DeadlineError,
    ModelError,
    SandboxedModel,
    ServingError,
    WorkerLostError,
)
from modelsteward.runtime.serving._record import EventPolicy, request_events

_REQUEST_ID = "x-request-id"
_SERVER_TIMING = "server-timing"
"""W3C Server-Timing: ``model`` (the worker call) on predictions, ``app`` (the whole answer) on all."""
_MAX_REQUEST_ID = 200
_SCOPE_KEY = "steward.request_id"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """How the app answers, besides the model it serves."""

    model: str
    """The registered model's name."""
    version: int
    """The registered version being served."""
    timeout: float = 30.0
    """Seconds a predict request may take, waiting for the model included; then 504."""
    max_body_bytes: int = 1 << 20
    """The largest request body accepted (only predict takes one); a larger one is answered 413, unread
    or cut off as it passes the limit."""
    events: EventPolicy = field(default_factory=EventPolicy)
    """Sampling and redaction of the logged events."""
    queue_capacity: int = 10_000
    """Requests whose events may wait for the store before requests wait for room."""


class _AnswerError(Exception):
    """A predict request that ends in an error answer."""

    def __init__(self, status: int, reason: ErrorReason, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason: ErrorReason = reason


def create_app(
    model: SandboxedModel, options: ServeOptions, *, metrics: ServingMetrics, sink: EventSink | None
) -> FastAPI:
    """The app serving ``model``, counting into ``metrics`` (also ``app.state.metrics``, where the monitor
    sets drift scores and KPIs); ``sink`` None logs no events."""
    metrics.set_worker_up(model.ready)
    writer: EventWriter | None = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal writer
        if sink is not None:
            writer = EventWriter(sink, capacity=options.queue_capacity, on_written=metrics.count_events)
        try:
            yield
        finally:
            # In-flight requests have been answered by now: write their events, then stop the model.
            if writer is not None:
                await run_in_threadpool(writer.close)
            await run_in_threadpool(model.close)

    app = FastAPI(title=f"steward serve {options.model}@{options.version}", lifespan=lifespan)
    app.state.metrics = metrics

    def too_large(scope: Scope, message: str) -> JSONResponse:
        request_id: str = scope[_SCOPE_KEY]
        return _error(metrics, 413, "too_large", message, request_id, {_REQUEST_ID: request_id})

    # Inside _Observe (added last, so outermost): the 413 has its request id and is measured.
    app.add_middleware(BodyLimit, limit=options.max_body_bytes, refuse=too_large)
    app.add_middleware(_Observe, metrics=metrics)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """The model is loaded and its worker alive (503 while it restarts)."""
        metrics.set_worker_up(model.ready)
        if model.ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready", "reason": "the model's worker is restarting"}, 503)

    @app.get("/v1/model")
    def describe() -> dict[str, Any]:
        """What is served: the registered version and what its adapter says about it."""
        description = model.description
        return {
            "model": options.model,
            "version": options.version,
            "adapter": description.adapter,
            "framework": description.framework,
            "operations": [str(op) for op in description.operations],
            "classes": list(description.classes),
            "details": dict(description.details),
        }

    @app.get("/metrics")
    def prometheus() -> Response:
        """Every metric in Prometheus' text format."""
        metrics.set_worker_up(model.ready)
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    @app.post("/v1/predict")
    async def predict(request: Request) -> JSONResponse:
        """Run the rows of the body through the model; see docs/serving.md for the JSON."""
        deadline = time.monotonic() + options.timeout
        at = datetime.now(UTC)
        request_id: str = request.scope[_SCOPE_KEY]
        headers = {_REQUEST_ID: request_id}
        try:
            parsed = parse_request(await request.body(), model.description)
            if parsed.client_id is not None and _REQUEST_ID not in request.headers:
                request_id = headers[_REQUEST_ID] = parsed.client_id
            answers, seconds = await run_in_threadpool(_run, parsed, request_id, at, deadline)
        except PayloadError as error:
            return _error(metrics, error.status, "bad_request", str(error), request_id, headers)
        except _AnswerError as failure:
            return _error(metrics, failure.status, failure.reason, str(failure), request_id, headers)
        body = {
            "request_id": request_id,
            "model": options.model,
            "version": options.version,
            "outputs": answers,
        }
        headers[_SERVER_TIMING] = f"model;dur={seconds * 1000:.3f}"
        return JSONResponse(body, headers=headers)

    def _run(
        parsed: PredictRequest, request_id: str, at: datetime, deadline: float
    ) -> tuple[list[dict[str, Any]], float]:
        """The model call and its events, on a worker thread; returns the outputs and the call's seconds."""
        try:
            prediction, seconds = model.predict(parsed.batch, deadline)
        except ServingError as error:
            status, reason = _STATUS.get(type(error), (503, "unavailable"))
            _log(parsed, request_id, at, None, None, str(error), deadline)
            raise _AnswerError(status, reason, str(error)) from None
        metrics.observe_model_call(seconds, len(parsed.batch))
        answers = outputs(prediction, len(parsed.batch))
        _log(parsed, request_id, at, [logged_outputs(a) for a in answers], seconds, None, deadline)
        return answers, seconds

    def _log(
        parsed: PredictRequest,
        request_id: str,
        at: datetime,
        logged: list[dict[str, Any]] | None,
        seconds: float | None,
        error: str | None,
        deadline: float,
    ) -> None:
        if writer is None:
            return
        events = request_events(
            request_id=request_id,
            model=options.model,
            version=options.version,
            at=at,
            inputs=parsed.inputs,
            outputs=logged,
            latency_seconds=seconds,
            error=error,
            policy=options.events,
        )
        try:
            # At least a moment for room in the queue, even when the model used up the deadline.
            writer.submit(events, timeout=max(deadline - time.monotonic(), 1.0))
        except EventLogFull as full:
            if error is None:  # an unlogged success must not be acknowledged
                raise _AnswerError(503, "event_log", f"the prediction could not be logged: {full}") from None

    return app


_STATUS: dict[type[ServingError], tuple[int, ErrorReason]] = {
    ModelError: (500, "model_error"),
    DeadlineError: (504, "timeout"),
    WorkerLostError: (503, "worker_crashed"),
}


def _error(
    metrics: ServingMetrics,
    status: int,
    reason: ErrorReason,
    message: str,
    request_id: str,
    headers: dict[str, str],
) -> JSONResponse:
    metrics.count_error(reason)
    return JSONResponse(
        {"error": {"reason": reason, "message": message}, "request_id": request_id}, status, headers
    )


class _Observe:
    """ASGI middleware: gives every request an id (``X-Request-ID``, honoured or made) and measures it
    (metrics, and a ``Server-Timing`` header)."""

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        scope[_SCOPE_KEY] = _request_id(scope)
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if not any(name == _REQUEST_ID.encode() for name, _ in headers):
                    headers.append((_REQUEST_ID.encode(), scope[_SCOPE_KEY].encode()))
                elapsed = (time.perf_counter() - started) * 1000
                headers.append((_SERVER_TIMING.encode(), f"app;dur={elapsed:.3f}".encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self._app(scope, receive, observed)
        finally:
            route = scope.get("route")
            # The route's template, never the raw path: a scanner's random paths must not become series.
            path = getattr(route, "path", "unmatched")
            self._metrics.observe_request(path, status, time.perf_counter() - started)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == _REQUEST_ID.encode():
            text = bytes(value).decode("latin-1")
            if 0 < len(text) <= _MAX_REQUEST_ID and text.isascii() and text.isprintable():
                return text
    return uuid.uuid4().hex
