"""Who is calling and what they may do: ``Authorization: Bearer <token>`` -> User -> permissions.

Authentication is one indexed lookup in the registry (:meth:`Registry.authenticate`). A success is
remembered for :data:`CACHE_SECONDS` (by the SHA-256 of the secret, never the secret), so a client
making many requests costs one lookup a second; revoking a token, disabling its user or its expiry
therefore takes effect within that second. Failed attempts are counted per client address: after
:data:`MAX_FAILURES` in :data:`FAILURE_WINDOW` seconds, that address gets 429 until the oldest
failure leaves the window. Both live in each worker process's memory.
"""

from __future__ import annotations

import enum
import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from modelsteward.registry import Registry, Role, User
from modelsteward.server._errors import ApiError

CACHE_SECONDS = 1.0
MAX_FAILURES = 10
FAILURE_WINDOW = 60.0
_CACHE_LIMIT = 10_000


class Permission(enum.StrEnum):
    """What an endpoint needs."""

    READ = "read"
    """Every GET (except users and tokens)."""
    SUBMIT = "submit"
    """Start admit and evaluate jobs."""
    TAG = "tag"
    """Tag and untag versions."""
    REVIEW = "review"
    """Approve or reject versions, in the user's own domains, never their own submission."""
    PROMOTE = "promote"
    """Set, remove and roll back aliases."""
    ARCHIVE = "archive"
    """Archive versions and models."""
    ADMIN = "admin"
    """Users and tokens."""


PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    # Each role is a viewer plus its own duties (docs/identity.md): a reviewer judges what others
    # submit and an owner promotes it; neither submits.
    Role.VIEWER: frozenset({Permission.READ}),
    Role.SUBMITTER: frozenset({Permission.READ, Permission.SUBMIT, Permission.TAG}),
    Role.REVIEWER: frozenset({Permission.READ, Permission.REVIEW}),
    Role.OWNER: frozenset({Permission.READ, Permission.TAG, Permission.PROMOTE, Permission.ARCHIVE}),
    # Everything but approving: an administrator holds the keys, not a reviewer's judgement.
    Role.ADMIN: frozenset(set(Permission) - {Permission.REVIEW}),
}
"""The permissions of each role (docs/server.md has the table)."""


class Authenticator:
    """Bearer secrets to users, with a short cache of successes and a throttle of failures."""

    def __init__(
        self,
        registry: Registry,
        *,
        cache_seconds: float = CACHE_SECONDS,
        max_failures: int = MAX_FAILURES,
        failure_window: float = FAILURE_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._cache_seconds = cache_seconds
        self._max_failures = max_failures
        self._window = failure_window
        self._clock = clock
        self._cache: dict[str, tuple[User, float]] = {}
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def user(self, secret: str | None, client: str) -> User:
        """The user ``secret`` authenticates; ApiError 401 (or 429 for a throttled ``client``)."""
        now = self._clock()
        self._refuse_throttled(client, now)
        if not secret:
            raise ApiError(
                401,
                "unauthorized",
                "send an API token: Authorization: Bearer <token> (steward tokens create)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        key = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        user = self._registry.authenticate(secret)
        if user is None:
            self._fail(client, now)
            raise ApiError(
                401,
                "unauthorized",
                "the token is unknown, expired or revoked, or its user is disabled",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = (user, now + self._cache_seconds)
        return user

    def _refuse_throttled(self, client: str, now: float) -> None:
        with self._lock:
            failures = self._failures.get(client)
            if failures is None:
                return
            while failures and failures[0] <= now - self._window:
                failures.popleft()
            if not failures:
                del self._failures[client]
                return
            if len(failures) >= self._max_failures:
                wait = max(1, math.ceil(failures[0] + self._window - now))
                raise ApiError(
                    429,
                    "throttled",
                    f"too many failed sign-in attempts from {client}: try again in {wait} s",
                    headers={"Retry-After": str(wait)},
                )

    def _fail(self, client: str, now: float) -> None:
        with self._lock:
            if len(self._failures) >= _CACHE_LIMIT and client not in self._failures:
                # Many addresses failing (a spread-out attack): forget those whose failures expired.
                horizon = now - self._window
                for stale in [key for key, times in self._failures.items() if times[-1] <= horizon]:
                    del self._failures[stale]
            self._failures.setdefault(client, deque()).append(now)


_bearer = HTTPBearer(auto_error=False, description="An API token from `steward tokens create`.")


def require(permission: Permission) -> Callable[..., Awaitable[User]]:
    """A dependency giving the authenticated caller if their role has ``permission``; ApiError 401
    (or 429) without a valid token, 403 without the permission. One dependency, not a chain: FastAPI
    resolves each level of a chain on every request."""

    async def check(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> User:
        authenticator: Authenticator = request.app.state.steward.authenticator
        client = request.client.host if request.client is not None else "unknown"
        user = authenticator.user(None if credentials is None else credentials.credentials, client)
        if permission not in PERMISSIONS[user.role]:
            raise ApiError(
                403,
                "forbidden",
                f"{user.name} has the {user.role.value} role, which lacks the {permission} permission",
            )
        return user

    return check


Reader = Annotated[User, Depends(require(Permission.READ))]
Submitter = Annotated[User, Depends(require(Permission.SUBMIT))]
Tagger = Annotated[User, Depends(require(Permission.TAG))]
Reviewer = Annotated[User, Depends(require(Permission.REVIEW))]
Promoter = Annotated[User, Depends(require(Permission.PROMOTE))]
Archiver = Annotated[User, Depends(require(Permission.ARCHIVE))]
Admin = Annotated[User, Depends(require(Permission.ADMIN))]
