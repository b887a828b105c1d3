"""Posting JSON to a URL, retried with backoff while the failure may pass."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.error import HTTPError, URLError
from urllib.request import HTTPRedirectHandler, Request, build_opener

from modelsteward import __version__
from modelsteward._urls import shown_url
from modelsteward.notify._notifier import NotifyError

USER_AGENT = f"modelsteward/{__version__}"
_KEPT_BODY = 64 * 1024
"""How much of an answer is read: enough for any error message, bounded against a hostile server."""
_SHOWN_BODY = 200


class _NoRedirect(HTTPRedirectHandler):
    # urllib would follow a redirect of a POST as a GET without the body, and to wherever it points:
    # a redirect is reported instead, so the configured URL gets corrected.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = build_opener(_NoRedirect)


@dataclass(frozen=True, slots=True)
class Retry:
    """How often and how patiently a post is tried again after a failure that may pass."""

    attempts: int = 3
    """Tries in all, the first included."""
    first_delay: float = 1.0
    """Seconds before the second try; each later delay doubles."""
    max_delay: float = 30.0
    """The longest wait between tries, also for a server's ``Retry-After``."""

    def delay(self, attempt: int, requested: float | None) -> float:
        """Seconds to wait before try ``attempt`` (1 is the second), or what the server asked for."""
        wanted = self.first_delay * 2 ** (attempt - 1) if requested is None else requested
        return min(wanted, self.max_delay)


@dataclass(frozen=True, slots=True)
class _Failure:
    problem: str
    """What went wrong, worded to follow the shown URL."""
    transient: bool
    """Whether trying again may help: 429, 5xx, no connection, no answer in time."""
    requested: float | None = None
    """The server's ``Retry-After``, in seconds."""


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """A URL notifications are posted to as JSON; 2xx means delivered."""

    url: str = field(repr=False)
    """An http or https URL; may be a secret (a Slack incoming webhook's is)."""
    timeout: float = 10.0
    """Seconds to connect and to wait for each read of the answer."""
    retry: Retry = Retry()
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    """Waits between tries; tests pass one that records instead of waiting."""

    @property
    def shown(self) -> str:
        """The URL as messages show it (scheme, host and port only)."""
        return shown_url(self.url)

    def post(self, data: bytes, headers: Mapping[str, str] | None = None) -> None:
        """Post the JSON bytes ``data`` with extra ``headers``; return once an answer is 2xx.

        Raise :class:`NotifyError` at a permanent failure, or when every try failed.
        """
        sent = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        # The URL was checked to be http or https (url_problem), never file: or another scheme.
        request = Request(self.url, data=data, headers=sent, method="POST")  # noqa: S310
        failure = self._try(request)
        tries = 1
        while failure is not None and failure.transient and tries < self.retry.attempts:
            self.sleep(self.retry.delay(tries, failure.requested))
            failure = self._try(request)
            tries += 1
        if failure is None:
            return
        if not failure.transient:
            raise NotifyError(f"{self.shown} {failure.problem}")
        raise NotifyError(
            f"{self.shown} {failure.problem} (tried {'once' if tries == 1 else f'{tries} times'})"
        )

    def _try(self, request: Request) -> _Failure | None:
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                response.read(_KEPT_BODY)
            return None
        except HTTPError as error:
            with error:
                answer = _shown_answer(error.read(_KEPT_BODY))
            status = f"answered {error.code} {error.reason}{answer}"
            if 300 <= error.code < 400:
                return _Failure(f"{status}: redirects are not followed, give the final URL", transient=False)
            transient = error.code == 429 or error.code >= 500
            return _Failure(status, transient, _retry_after(error.headers.get("Retry-After")))
        except TimeoutError:
            return _Failure(f"did not answer within {self.timeout:g} s", transient=True)
        except URLError as error:
            if isinstance(error.reason, TimeoutError):
                return _Failure(f"did not answer within {self.timeout:g} s", transient=True)
            return _Failure(f"cannot be reached: {_reason(error.reason)}", transient=True)
        except (OSError, http.client.HTTPException) as error:
            return _Failure(f"broke the connection: {_reason(error)}", transient=True)


def json_bytes(payload: Mapping[str, object]) -> bytes:
    """The exact bytes posted for ``payload``: compact UTF-8 JSON, keys in their given order."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` in seconds; the HTTP-date form is ignored (backoff applies instead)."""
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


def _shown_answer(data: bytes) -> str:
    """The start of a server's error answer (Slack says ``invalid_token``, ``channel_not_found``)."""
    text = " ".join(data.decode("utf-8", "replace").split())
    if not text:
        return ""
    return f": {json.dumps(text if len(text) <= _SHOWN_BODY else text[: _SHOWN_BODY - 3] + '...')}"


def _reason(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__
