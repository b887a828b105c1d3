"""A server's jobs: submit one (an admission, a verification) and follow it to the end, showing its
progress."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from modelsteward.client._http import ApiSession, segment
from modelsteward.core.progress import Progress

_POLL = 0.5
"""Seconds between looks at a running job."""


def submit(api: ApiSession, kind: str, body: Mapping[str, Any]) -> str:
    """Queue a job of ``kind`` (``admit``, ``evaluate``, ``verify``) with ``body`` (docs/server.md);
    return its id."""
    job: Mapping[str, Any] = api.call("POST", f"/jobs/{segment(kind)}", json=body)
    return str(job["id"])


def follow(
    api: ApiSession,
    job_id: str,
    *,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Mapping[str, Any]:
    """The job once it has succeeded or failed; each new progress message is passed to ``progress``."""
    shown = -1
    while True:
        job: Mapping[str, Any] = api.call("GET", f"/jobs/{segment(job_id)}")
        if progress is not None and job["updates"] != shown and job["progress"]:
            progress(job["progress"])
            shown = job["updates"]
        if job["status"] in ("succeeded", "failed"):
            return job
        sleep(_POLL)
