"""Server fixtures: a workspace with one user (and token) per role and a few versions, and a client.

The workspace's registry is built once per session and copied for each test, so that every test (the
authorisation matrix makes hundreds) starts from the same state at the cost of a file copy.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from modelsteward.registry import Registry
from modelsteward.server import ServerConfig, create_app
from modelsteward.settings import Settings
from tests.registry._samples import register_sample

ROLES = ("viewer", "submitter", "reviewer", "owner", "admin")
MODEL = "acme/cancer"
"""A model whose name holds a ``/``, as the routes must allow: versions 1 and 2, submitted by the
submitter; ``production`` points at 1, which is tagged ``exp/1``."""


@dataclass(frozen=True)
class Workspace:
    """A workspace on disk and the secrets of its users' tokens."""

    settings: Settings
    tokens: dict[str, str]
    """Role (and ``spare``, a second admin token) -> secret."""
    spare_token_id: str

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def _populate(settings: Settings) -> tuple[dict[str, str], str]:
    with Registry.open(settings.database_url) as registry:
        tokens = {}
        for role in ROLES:
            domains = ("security", "legal") if role == "reviewer" else ()
            registry.add_user(role, role, domains=domains, actor="setup")
            tokens[role] = registry.issue_token(role, name="tests", expires=None, actor="setup").secret
        spare = registry.issue_token("admin", name="spare", expires=None, actor="setup")
        tokens["spare"] = spare.secret
        register_sample(registry, MODEL, b"weights one", actor="submitter")
        register_sample(registry, MODEL, b"weights two", actor="submitter")
        registry.set_alias(MODEL, "production", 1, actor="setup")
        registry.tag(f"{MODEL}@1", "exp/1", actor="setup")
        return tokens, spare.info.id


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str]:
    home = tmp_path_factory.mktemp("template")
    tokens, spare = _populate(Settings(home=home, database_url=f"sqlite:///{home / 'registry.db'}"))
    return home / "registry.db", tokens, spare


@pytest.fixture
def workspace(tmp_path: Path, _template: tuple[Path, dict[str, str], str]) -> Workspace:
    """A fresh copy of the populated workspace."""
    database, tokens, spare = _template
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(database, home / "registry.db")
    return Workspace(Settings(home=home, database_url=f"sqlite:///{home / 'registry.db'}"), tokens, spare)


def make_client(workspace: Workspace, **options: object) -> TestClient:
    """A test client of a server on ``workspace`` (no web UI unless asked)."""
    options.setdefault("web", False)
    return TestClient(create_app(ServerConfig(settings=workspace.settings, **options)))  # type: ignore[arg-type]


@pytest.fixture
def client(workspace: Workspace) -> Iterator[TestClient]:
    """A client of a server on the fresh workspace."""
    with make_client(workspace) as opened:
        yield opened
