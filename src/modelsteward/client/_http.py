"""One authenticated connection to a server's API, with its refusals turned into registry errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from modelsteward.registry import RegistryError, RegistryInputError

API = "/api/v1"
_PAGE = 500
_TIMEOUT = 30.0


class ApiSession:
    """Requests to the API of the server at ``url`` as the user ``token`` authenticates.

    Refusals are raised as a local registry raises them: RegistryInputError for bad input (422),
    RegistryError for the rest, with the server's own message.
    """

    def __init__(self, url: str, token: str, *, transport: httpx.BaseTransport | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise RegistryInputError(f"server URL {url!r}: give it as http://HOST:PORT or https://HOST")
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url + API,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=_TIMEOUT,
            transport=transport,
        )

    def __enter__(self) -> ApiSession:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection to the server."""
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Any:
        """The JSON answer to one request (None for 204); a registry error for a refusal."""
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.HTTPError as error:
            raise RegistryError(f"cannot reach the server at {self.url}: {error}") from None
        if response.status_code == 204:
            return None
        if response.is_success:
            return response.json()
        raise _refusal(self.url, response)

    def pages(self, path: str) -> Iterator[Mapping[str, Any]]:
        """Every item of a paginated list, page after page."""
        offset = 0
        while True:
            page = self.call("GET", path, params={"limit": _PAGE, "offset": offset})
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return


def segment(text: str) -> str:
    """``text`` in a path: model names keep their ``/`` (the routes take them whole); the rest is escaped."""
    return quote(text, safe="/@")


def _refusal(url: str, response: httpx.Response) -> RegistryError:
    """The error a refused request stands for, with the server's own message."""
    try:
        message = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = f"HTTP {response.status_code} from {url}"
    if response.status_code == 422:
        return RegistryInputError(message)
    if response.status_code == 401:
        return RegistryError(f"{message} (set STEWARD_TOKEN to an API token of {url})")
    return RegistryError(message)
