"""The team server's application: the JSON API under ``/api/v1`` and the web UI at ``/``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI

from modelsteward import __version__
from modelsteward._body_limit import BodyLimit
from modelsteward.policy import default_policy, load_policy
from modelsteward.registry import Registry, User
from modelsteward.server import (
    _alerts,
    _aliases,
    _approvals,
    _audit,
    _errors,
    _job_routes,
    _meta,
    _models,
    _monitoring,
    _users,
    _watch,
)
from modelsteward.server._auth import CACHE_SECONDS, Authenticator
from modelsteward.server._jobs import Jobs, admit_work
from modelsteward.server._schemas import AdmitIn
from modelsteward.server._state import ServerState
from modelsteward.settings import Settings

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How to run the server."""

    settings: Settings
    """The workspace: registry database, artifact store, event store; jobs are kept in ``<home>/jobs``."""
    policy: Path | None = None
    """The policy admit jobs decide by, and whose ``promotion`` section says which approvals an alias
    needs; None: the built-in policy."""
    web: bool = True
    """Serve the web UI at ``/`` beside the API."""
    secure_cookies: bool = False
    """Mark the web UI's session cookie Secure (behind HTTPS)."""
    job_workers: int = 2
    """Admit and evaluate jobs run at once in each worker process."""
    auth_cache_seconds: float = CACHE_SECONDS
    """How long a successful authentication is remembered; revocation takes effect within it."""
    max_body_bytes: int = MAX_BODY_BYTES
    """The largest request body accepted, API and web forms alike; a larger one is answered 413."""


def create_app(config: ServerConfig) -> FastAPI:
    """The server's FastAPI application on the registry ``config.settings`` names.

    Opens the registry (and loads the policy) at once, so a bad database URL or policy file fails
    here, before any request. Other routers (the web UI) are added after the API's: ``app.include_router``
    on the returned app works the same way.
    """
    policy = default_policy() if config.policy is None else load_policy(config.policy)
    registry = Registry.open(config.settings.database_url)
    jobs = Jobs(config.settings.home / "jobs", workers=config.job_workers)
    jobs.settle()  # those left queued or running by a server that stopped are failed, not running forever
    server = ServerState(
        settings=config.settings,
        registry=registry,
        policy=policy,
        authenticator=Authenticator(registry, cache_seconds=config.auth_cache_seconds),
        jobs=jobs,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.close()
        registry.close()

    app = FastAPI(
        title="ModelSteward",
        version=__version__,
        description="The ModelSteward team server: registry, approvals, aliases, audit, monitoring, jobs.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.steward = server
    _errors.install(app)
    app.add_middleware(BodyLimit, limit=config.max_body_bytes, refuse=_errors.too_large)
    include_api(app)
    if config.web:
        from modelsteward.server._web import web_routes  # noqa: PLC0415 -- Jinja and templates only when served

        def admit_from_web(source: str, name: str, user: User) -> str:
            job = jobs.submit(
                "admit",
                {"source": source, "name": name},
                user.name,
                admit_work(
                    AdmitIn(source=source, name=name),
                    settings=config.settings,
                    policy=policy,
                    actor=user.name,
                ),
            )
            return f"{API_PREFIX}/jobs/{job['id']}"

        app.include_router(
            web_routes(
                config.settings,
                registry,
                policy=policy,
                admit=admit_from_web,
                secure_cookies=config.secure_cookies,
            )
        )
    return app


def include_api(app: FastAPI) -> None:
    """Add every API route to ``app`` under ``/api/v1``, in matching order: a model name may hold ``/``,
    so the routes under ``/models/{name}/...`` come before ``GET /models/{name}`` itself. Each module's
    router is included in the app itself: every level of nesting is walked again when matching."""
    # The reads the benchmark measures first: matching walks the routes in order.
    for module in (
        _models,
        _aliases,
        _meta,
        _approvals,
        _job_routes,
        _audit,
        _alerts,
        _monitoring,
        _users,
        _watch,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    last = APIRouter()
    _models.add_model_route(last)
    app.include_router(last, prefix=API_PREFIX)


POLICY_ENV = "STEWARD_SERVER_POLICY"
WEB_ENV = "STEWARD_SERVER_WEB"
MAX_BODY_ENV = "STEWARD_SERVER_MAX_BODY_BYTES"


def app_from_env() -> FastAPI:
    """The app for each of uvicorn's worker processes (``--workers N``), which import it by name: the
    workspace from ``STEWARD_HOME`` and ``STEWARD_DATABASE_URL``, the policy from
    ``STEWARD_SERVER_POLICY``, the web UI unless ``STEWARD_SERVER_WEB`` is ``0`` and the body limit
    from ``STEWARD_SERVER_MAX_BODY_BYTES`` (default 1 MiB)."""
    policy = os.environ.get(POLICY_ENV)
    max_body = os.environ.get(MAX_BODY_ENV, str(MAX_BODY_BYTES))
    if not max_body.isdigit() or int(max_body) < 1:
        raise ValueError(f"{MAX_BODY_ENV} must be a whole number of bytes, at least 1 (got {max_body!r})")
    return create_app(
        ServerConfig(
            settings=Settings.from_env(),
            policy=Path(policy) if policy else None,
            web=os.environ.get(WEB_ENV, "1") != "0",
            max_body_bytes=int(max_body),
        )
    )
