"""Who is signed in, and the token every form must carry back.

The API token a person signs in with is kept in an HttpOnly, SameSite=Strict cookie: scripts on the page
cannot read it and other sites cannot make the browser send it. Every form post must also carry a CSRF
token bound to that cookie (an HMAC of it under a key the server made at start), so a forged post from a
page that cannot read ours is refused even where SameSite is not honoured. Before sign-in the binding is to
a random cookie of its own, so the sign-in form is protected the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass

SESSION_COOKIE = "steward_session"
"""Holds the API token (``stw_...``) the person signed in with."""
ANONYMOUS_COOKIE = "steward_visitor"
"""A random value that binds the sign-in form's CSRF token before there is a session."""
CSRF_FIELD = "csrf"
"""The form field that carries the CSRF token."""
CSRF_HEADER = "x-csrf-token"
"""The header htmx requests carry it in instead (set from the page's ``<meta name="csrf-token">``)."""


@dataclass(frozen=True, slots=True)
class CsrfGuard:
    """Makes and checks the CSRF token bound to a session (or visitor) cookie."""

    key: bytes
    """Secret of this server process; a restart only makes open forms stale."""

    @classmethod
    def fresh(cls) -> CsrfGuard:
        """A guard with a new random key."""
        return cls(secrets.token_bytes(32))

    def token(self, binding: str) -> str:
        """The CSRF token for the cookie value ``binding``."""
        return hmac.new(self.key, b"csrf\x00" + binding.encode(), hashlib.sha256).hexdigest()

    def valid(self, binding: str, given: str | None) -> bool:
        """Whether ``given`` is the token for ``binding`` (compared in constant time)."""
        return bool(binding) and given is not None and hmac.compare_digest(self.token(binding), given)


class SignInLimiter:
    """Refuses sign-in from a client after too many failures in a minute, as the API does for bearer
    tokens: tokens are long and random, but a form is an easy thing to hammer."""

    def __init__(self, attempts: int = 10, period: float = 60.0) -> None:
        self._attempts = attempts
        self._period = period
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def blocked(self, client: str, now: float | None = None) -> bool:
        """Whether ``client`` has failed too often lately."""
        moment = time.monotonic() if now is None else now
        failures = self._failures.get(client)
        if failures is None:
            return False
        while failures and failures[0] <= moment - self._period:
            failures.popleft()
        if not failures:
            del self._failures[client]  # forget quiet clients: the table holds only recent failures
            return False
        return len(failures) >= self._attempts

    def failed(self, client: str, now: float | None = None) -> None:
        """Count one failed attempt by ``client``."""
        self._failures[client].append(time.monotonic() if now is None else now)
