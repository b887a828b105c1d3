"""A workspace with admitted models, shared by this package's tests; each served app is its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from sklearn.base import BaseEstimator

from modelsteward.monitoring._store import EventStore
from modelsteward.runtime.sandbox import SandboxConfig
from modelsteward.runtime.serving import (
    EventPolicy,
    SandboxedModel,
    ServeOptions,
    ServingMetrics,
    create_app,
    prepare,
)
from modelsteward.settings import Settings
from tests.runtime.serving.models import register_models

MakeApp = Callable[..., FastAPI]


@pytest.fixture(scope="package")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, BaseEstimator]]:
    """Settings of a workspace where ``acme/churn@1`` and ``acme/slow@1`` are admitted, and the estimators."""
    root = tmp_path_factory.mktemp("serving")
    settings = Settings(home=root / "home", database_url=f"sqlite:///{root / 'registry.db'}", jobs=2)
    return settings, register_models(settings, root / "models")


@pytest.fixture
def settings(workspace: tuple[Settings, dict[str, BaseEstimator]]) -> Settings:
    return workspace[0]


@pytest.fixture
def make_app(settings: Settings, tmp_path: Path) -> MakeApp:
    """An app serving ``ref`` with its events in ``tmp_path/events``; options override the defaults."""

    def make(
        ref: str,
        *,
        policy: EventPolicy | None = None,
        timeout: float = 30.0,
        max_body_bytes: int = 1 << 20,
    ) -> FastAPI:
        deployment = prepare(ref, settings=settings, sandbox=SandboxConfig())
        metrics = ServingMetrics(deployment.model, deployment.version)
        served = SandboxedModel(deployment.spec, on_restart=metrics.count_restart)
        options = ServeOptions(
            deployment.model,
            deployment.version,
            timeout=timeout,
            max_body_bytes=max_body_bytes,
            events=policy or EventPolicy(),
        )
        return create_app(served, options, metrics=metrics, sink=EventStore(tmp_path / "events"))

    return make
