"""What every route shares, kept on ``app.state.steward``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from modelsteward.policy import Policy
from modelsteward.registry import Registry
from modelsteward.server._auth import Authenticator
from modelsteward.server._jobs import Jobs
from modelsteward.settings import Settings


@dataclass(frozen=True, slots=True)
class ServerState:
    """The open registry and the services built on it, for one worker process."""

    settings: Settings
    registry: Registry
    policy: Policy
    authenticator: Authenticator
    jobs: Jobs


def state(request: Request) -> ServerState:
    """The server state of the app handling ``request``."""
    found: ServerState = request.app.state.steward
    return found
