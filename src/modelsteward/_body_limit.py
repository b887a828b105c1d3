"""A bound on the size of request bodies, for the apps that take them (``steward server``, ``steward serve``).

:class:`BodyLimit` is pure ASGI middleware: it stands between the app and ``receive``, so it sees the
body before anything parses it. When the app first asks for the body, a declared ``Content-Length``
over the limit is refused at once, unread; a body without one (chunked) is counted as it arrives and
refused as soon as it passes the limit. Either way the client gets the app's own 413 answer, and the
app is told the client went away (``http.disconnect``): it never holds more than ``limit`` bytes of
the body, and whatever it would have done with the body (store it, run a model on it) is not done.
A route that never reads its body is answered as usual.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Refusal = Callable[[Scope, str], ASGIApp]
"""The 413 answer to the request ``scope``, given a message naming the limit (a Starlette Response)."""


class BodyLimit:
    """ASGI middleware: request bodies of at most ``limit`` bytes reach ``app``; a larger one is
    answered by ``refuse`` with status 413."""

    def __init__(self, app: ASGIApp, *, limit: int, refuse: Refusal) -> None:
        if limit < 1:
            raise ValueError(f"the body limit must be at least 1 byte (got {limit})")
        self._app = app
        self._limit = limit
        self._refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = self._limit
        received = 0
        first = True
        cut = False  # the body is over the limit: the app gets no more of it
        answered = False  # ... and the 413 is sent: the app's own answer goes nowhere
        started = False

        async def refuse(message: str) -> Message:
            nonlocal cut, answered
            cut = True
            if not started:  # else the app answered before reading on: its answer stands, cut short
                await self._refuse(scope, message)(scope, receive, send)
                answered = True
            return {"type": "http.disconnect"}

        async def bounded() -> Message:
            nonlocal first, received
            if cut:
                return {"type": "http.disconnect"}
            if first:
                first = False
                declared = _content_length(scope)
                if declared is not None and declared > limit:
                    return await refuse(f"the body is {declared} bytes; at most {limit} are accepted")
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    return await refuse(f"the body exceeds {limit} bytes, the most accepted")
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._app(scope, bounded, guarded)
        except ClientDisconnect:
            if not answered:  # a client that did go away
                raise


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = bytes(value).decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
