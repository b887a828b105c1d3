"""A local server that speaks the OpenAI chat-completions and embeddings API, for the endpoint adapter.

Request and response bodies follow the OpenAI API reference. The server answers chat messages with
``reply(messages)``, embeds each input with ``embed(text)``, checks the bearer token, can fail the
next requests with chosen statuses (to exercise retries), and records every request body it accepts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Messages = list[dict[str, str]]


@dataclass
class OpenAIServer:
    """What the server answers, and what it saw."""

    reply: Callable[[Messages], str]
    embed: Callable[[str], list[float]]
    api_key: str | None = None
    failures: list[int] = field(default_factory=list)
    """Statuses to answer the next requests with, in order, before answering normally."""
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(path, body) of every request answered normally."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""
    """``http://127.0.0.1:PORT/v1`` once serving."""

    def answer(self, path: str, authorization: str | None, body: Any) -> tuple[int, dict[str, Any]]:
        if self.api_key is not None and authorization != f"Bearer {self.api_key}":
            return 401, _error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        with self.lock:
            if self.failures:
                status = self.failures.pop(0)
                return status, _error("Rate limit reached.", "requests", "rate_limit_exceeded")
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return 400, _error("'model' is a required property", "invalid_request_error", None)
        if path == "/v1/chat/completions":
            return self._chat(body)
        if path == "/v1/embeddings":
            return self._embeddings(body)
        return 404, _error(f"Unknown request URL: POST {path}.", "invalid_request_error", "unknown_url")

    def _chat(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        messages = body.get("messages")
        valid = isinstance(messages, list) and all(
            isinstance(m, dict)
            and m.get("role") in ("system", "user", "assistant")
            and isinstance(m.get("content"), str)
            for m in messages
        )
        if not valid or not messages:
            return 400, _error(
                "'messages' must be a non-empty array of messages", "invalid_request_error", None
            )
        self._record("/v1/chat/completions", body)
        content = self.reply(messages)
        return 200, {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    def _embeddings(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not all(isinstance(text, str) for text in inputs):
            return 400, _error(
                "'input' must be a string or an array of strings", "invalid_request_error", None
            )
        self._record("/v1/embeddings", body)
        items = [
            {"object": "embedding", "index": i, "embedding": self.embed(text)}
            for i, text in enumerate(inputs)
        ]
        return 200, {
            "object": "list",
            # The API gives each item its index; order them backwards to prove clients read it.
            "data": items[::-1],
            "model": body["model"],
            "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
        }

    def _record(self, path: str, body: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append((path, body))


def _error(message: str, kind: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@contextmanager
def serving(server: OpenAIServer) -> Iterator[OpenAIServer]:
    """Serve on a free loopback port for the duration of the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            try:
                body = json.loads(self.rfile.read(length))
            except json.JSONDecodeError:
                body = None
            status, reply = server.answer(self.path, self.headers.get("Authorization"), body)
            payload = json.dumps(reply).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    class Server(ThreadingHTTPServer):
        request_queue_size = 64  # the default backlog of 5 drops concurrent clients' connections
        daemon_threads = True

    http = Server(("127.0.0.1", 0), Handler)
    server.base_url = f"http://127.0.0.1:{http.server_address[1]}/v1"
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        http.shutdown()
        http.server_close()
        thread.join()
