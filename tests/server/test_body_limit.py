"""Request bodies are bounded: over the limit, declared or counted as they arrive, they get 413 unread."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Protocol

import httpx
from fastapi.testclient import TestClient

from modelsteward.server import ServerConfig, create_app
from tests.runtime.serving.server import serving
from tests.server.conftest import Workspace, make_client

LIMIT = 1024
JSON = {"Content-Type": "application/json"}


def _padded(document: dict[str, Any], size: int) -> bytes:
    """``document`` as JSON followed by spaces up to ``size`` bytes: still a valid body, which would do
    what it says if it were read."""
    text = json.dumps(document).encode()
    return text + b" " * (size - len(text))


def _chunks(body: bytes, size: int = 256) -> Iterator[bytes]:
    """``body`` in pieces: httpx sends an iterator chunked, with no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


class _Answer(Protocol):
    """A response of httpx or of Starlette's test client."""

    @property
    def status_code(self) -> int: ...
    @property
    def text(self) -> str: ...
    def json(self) -> Any: ...


def _assert_refused(answer: _Answer, message: str) -> None:
    assert answer.status_code == 413, answer.text
    error = answer.json()["error"]
    assert error["code"] == "too_large"
    assert message in error["message"], error["message"]


def test_a_declared_length_over_the_limit_is_refused_unread(workspace: Workspace) -> None:
    admin = workspace.headers("admin") | JSON
    user = {"name": "mallory", "role": "viewer"}
    admit = {"source": "/nowhere", "name": "team/big"}
    with make_client(workspace, max_body_bytes=LIMIT) as client:
        refused = client.post("/api/v1/users", content=_padded(user, 4 * LIMIT), headers=admin)
        job = client.post("/api/v1/jobs/admit", content=_padded(admit, LIMIT + 1), headers=admin)
        _assert_refused(refused, f"the body is {4 * LIMIT} bytes; at most {LIMIT} are accepted")
        _assert_refused(job, f"the body is {LIMIT + 1} bytes; at most {LIMIT} are accepted")
        # Nothing the bodies asked for was done.
        assert client.get("/api/v1/users/mallory", headers=admin).status_code == 404
        assert client.get("/api/v1/jobs", headers=admin).json() == []
        # A body at the limit is read as any other.
        added = client.post("/api/v1/users", content=_padded(user, LIMIT), headers=admin)
        assert added.status_code == 201, added.text
        assert client.get("/api/v1/users/mallory", headers=admin).json()["role"] == "viewer"


def test_a_chunked_body_is_cut_off_as_it_passes_the_limit(workspace: Workspace) -> None:
    admin = workspace.headers("admin") | JSON
    user = {"name": "mallory", "role": "viewer"}
    app = create_app(ServerConfig(settings=workspace.settings, web=False, max_body_bytes=LIMIT))
    with serving(app) as url, httpx.Client(base_url=url, headers=admin) as client:
        refused = client.post("/api/v1/users", content=_chunks(_padded(user, 8 * LIMIT)))
        assert "content-length" not in refused.request.headers
        assert refused.request.headers["transfer-encoding"] == "chunked"
        _assert_refused(refused, f"the body exceeds {LIMIT} bytes")
        assert client.get("/api/v1/users/mallory").status_code == 404
        # The same body within the limit, chunked too, is read whole.
        added = client.post("/api/v1/users", content=_chunks(_padded(user, LIMIT), size=100))
        assert added.status_code == 201, added.text
        # The connection serves on after a refusal.
        assert client.get("/api/v1/me").json()["name"] == "admin"


def test_web_forms_are_bounded_too_and_the_default_is_one_mebibyte(workspace: Workspace) -> None:
    assert ServerConfig(settings=workspace.settings).max_body_bytes == 1 << 20
    with TestClient(create_app(ServerConfig(settings=workspace.settings))) as client:
        form = {"token": "x" * (1 << 20), "next": "/models"}
        _assert_refused(client.post("/signin", data=form), f"at most {1 << 20} are accepted")
        big = client.post(
            "/api/v1/users",
            content=_padded({"name": "mallory", "role": "viewer"}, (1 << 20) + 1),
            headers=workspace.headers("admin") | JSON,
        )
        _assert_refused(big, f"at most {1 << 20} are accepted")
        # Under the limit, the form is read (and its missing CSRF token refused by the page itself).
        assert client.post("/signin", data={"token": "x"}).status_code == 403
