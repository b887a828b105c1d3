"""A server's jobs: submit an admission and follow it to the end, showing its progress."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from modelsteward.client._http import ApiSession, segment
from modelsteward.core.progress import Progress

_POLL = 0.5
"""Seconds between looks at a running job."""


def submit_admission(api: ApiSession, source: str, *, name: str, derived_from: str | None) -> str:
    """Queue an admission of ``source`` (as the server sees it) under ``name``; return the job's id."""
    body = {"source": source, "name": name, "derived_from": derived_from}
    job: Mapping[str, Any] = api.call("POST", "/jobs/admit", json=body)
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
