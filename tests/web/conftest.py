"""A workspace with users of every role, and the web UI served live on a free port for the browser tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from modelsteward.policy import Policy, parse_policy
from modelsteward.registry import Registry, Role
from modelsteward.server._web import web_routes
from modelsteward.settings import Settings
from tests._live import served

POLICY = """\
version: 1
name: web-tests
promotion:
  production:
    approvals: [security, legal]
"""

CHROMIUM = Path("/usr/bin/chromium")
USERS = {
    "sam": (Role.SUBMITTER, ()),
    "sec": (Role.REVIEWER, ("security",)),
    "lee": (Role.REVIEWER, ("legal",)),
    "olga": (Role.OWNER, ()),
    "val": (Role.VIEWER, ()),
}


@dataclass(frozen=True, slots=True)
class Workspace:
    """A registry with one user of each role and an API token for each."""

    settings: Settings
    registry: Registry
    policy: Policy
    tokens: dict[str, str]
    """User name -> token secret."""


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'registry.db'}")
    with Registry.open(settings.database_url) as registry:
        tokens = {}
        for name, (role, domains) in USERS.items():
            registry.add_user(name, role, domains=domains, actor="admin")
            tokens[name] = registry.issue_token(name, expires=None, actor="admin").secret
        yield Workspace(settings, registry, parse_policy(POLICY, filename="policy.yaml"), tokens)


def app_of(workspace: Workspace) -> FastAPI:
    """The web UI alone, as the server mounts it."""
    app = FastAPI()
    app.include_router(web_routes(workspace.settings, workspace.registry, policy=workspace.policy))
    return app


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@pytest.fixture
def live_server(workspace: Workspace) -> Iterator[str]:
    """The web UI served by uvicorn in a thread; yields its base URL."""
    with served(app_of(workspace)) as url:
        yield url
