"""Which registry a command works on: the local one, or a team server's (``--server``, ``STEWARD_SERVER``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelsteward.core.progress import Progress

if TYPE_CHECKING:
    from modelsteward.client import ApiSession


def server_of(args: argparse.Namespace) -> str | None:
    """The server's URL given by ``--server`` or ``STEWARD_SERVER``; None for the local registry."""
    return getattr(args, "server", None) or os.environ.get("STEWARD_SERVER") or None


def session(args: argparse.Namespace, server: str) -> ApiSession:
    """A connection to ``server`` as the user of ``STEWARD_TOKEN``. RegistryInputError for what a server
    decides itself (``--actor``: its authenticated user; ``--policy``: its own policy) or a missing token."""
    from modelsteward.client import ApiSession  # noqa: PLC0415
    from modelsteward.registry import RegistryInputError  # noqa: PLC0415

    if getattr(args, "actor", None):
        raise RegistryInputError("--actor with a server: the server records the user of STEWARD_TOKEN")
    if getattr(args, "policy", None):
        raise RegistryInputError("--policy with a server: the server decides by its own policy")
    token = os.environ.get("STEWARD_TOKEN", "")
    if not token:
        raise RegistryInputError(f"set STEWARD_TOKEN to an API token of {server} (steward tokens create)")
    return ApiSession(server, token)


def run_job(
    args: argparse.Namespace, server: str, kind: str, body: Mapping[str, Any], progress: Progress | None
) -> Mapping[str, Any]:
    """The result of a job of ``kind`` on ``server``, followed to its end with each progress message
    passed on; RegistryError with the job's error (and id) when it failed."""
    from modelsteward.client import follow, submit  # noqa: PLC0415
    from modelsteward.registry import RegistryError  # noqa: PLC0415

    with session(args, server) as api:
        job_id = submit(api, kind, body)
        job = follow(api, job_id, progress=progress)
    if job["status"] == "failed":
        raise RegistryError(f"{job['error']} (job {job_id})")
    result: Mapping[str, Any] = job["result"]
    return result
