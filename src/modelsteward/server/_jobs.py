"""Admit and evaluate jobs: the gate's work, run in a background thread, followed by status and progress.

A job runs the very functions ``steward admit`` and ``steward evaluate`` call (:func:`gate.admit`,
:func:`gate.evaluate_model`), with the evaluation options read by the CLI's own option code. Each job
is a JSON file under ``<home>/jobs``, rewritten atomically as it moves on, so that any worker process
of the server can answer for a job another one runs. The file names the process that runs the job
(:mod:`~modelsteward.server._runner`): a job still queued or running whose process has stopped (killed,
the server restarted) is reported, and recorded, as failed when it is read, and at the server's start.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modelsteward.core.progress import Progress
from modelsteward.policy import Policy
from modelsteward.server import _runner
from modelsteward.server._errors import ApiError
from modelsteward.server._schemas import AdmitIn, CompareIn, EvaluateIn, EvaluationIn, VerifyIn
from modelsteward.settings import Settings

Work = Callable[[Progress], dict[str, Any]]
"""A job's work: given a progress callback, the job's result as JSON."""

_ID = re.compile(r"job_[0-9a-f]{16}")
# Progress is written at most this often (seconds): a chatty check must not turn into a disk storm.
_PROGRESS_EVERY = 0.25


class Jobs:
    """Jobs of one server: a thread pool to run them and a folder to keep their state in."""

    def __init__(self, folder: Path, *, workers: int = 2) -> None:
        self.folder = folder
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="steward-job")
        self._lock = threading.Lock()

    def submit(self, kind: str, params: dict[str, Any], user: str, work: Work) -> dict[str, Any]:
        """Queue ``work`` as a new job of ``kind`` for ``user``; return its record."""
        job: dict[str, Any] = {
            "id": f"job_{secrets.token_hex(8)}",
            "kind": kind,
            "status": "queued",
            "progress": "",
            "updates": 0,
            "submitted_by": user,
            "runner": _runner.runner(),
            "created": _now(),
            "started": None,
            "finished": None,
            "params": params,
            "result": None,
            "error": None,
        }
        self._write(job)
        self._pool.submit(self._run, job, work)
        return dict(job)

    def get(self, job_id: str) -> dict[str, Any]:
        """The record of job ``job_id``; ApiError 404 if there is none."""
        if not _ID.fullmatch(job_id):
            raise ApiError(404, "not_found", f"no job {job_id!r}: job ids are job_ and 16 hex digits")
        try:
            found: dict[str, Any] = json.loads((self.folder / f"{job_id}.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ApiError(404, "not_found", f"no job {job_id}") from None
        return self._settled(found)

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """The latest ``limit`` jobs, newest first."""
        if not self.folder.is_dir():
            return []
        files = sorted(self.folder.glob("job_*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        jobs = []
        for path in files[:limit]:
            try:
                jobs.append(self._settled(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError):
                continue  # removed or being replaced meanwhile
        return sorted(jobs, key=lambda job: str(job["created"]), reverse=True)

    def settle(self) -> int:
        """Record as failed every job still queued or running whose process has stopped; return how many.
        Run at the server's start: reading a job does the same for that job."""
        if not self.folder.is_dir():
            return 0
        settled = 0
        for path in self.folder.glob("job_*.json"):
            try:
                job = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if self._settled(job).get("status") != job.get("status"):
                settled += 1
        return settled

    def close(self) -> None:
        """Stop taking jobs; wait for none (a running admission finishes on its own thread)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _settled(self, job: dict[str, Any]) -> dict[str, Any]:
        """``job``, failed and written so if it is still queued or running but its process has stopped."""
        status = job.get("status")
        runner = job.get("runner")
        if status not in ("queued", "running") or not isinstance(runner, dict) or not _runner.stopped(runner):
            return job
        what = "running this job" if status == "running" else "that queued this job"
        when = "finished" if status == "running" else "started it"
        error = f"the server process {what} stopped (pid {runner['pid']}) before it {when}"
        settled = {**job, "status": "failed", "error": error, "finished": _now()}
        self._write(settled)
        return settled

    def _run(self, job: dict[str, Any], work: Work) -> None:
        job.update(status="running", started=_now())
        self._write(job)
        last = 0.0

        def progress(message: str) -> None:
            nonlocal last
            job["progress"] = message[:500]
            job["updates"] += 1
            now = time.monotonic()
            if now - last >= _PROGRESS_EVERY:
                last = now
                self._write(job)

        try:
            result = work(progress)
        except Exception as error:  # noqa: BLE001 -- a job reports every failure rather than dying silently
            job.update(status="failed", error=f"{type(error).__name__}: {error}"[:4000], finished=_now())
        else:
            job.update(status="succeeded", result=result, finished=_now())
        self._write(job)

    def _write(self, job: dict[str, Any]) -> None:
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / f"{job['id']}.json"
            temporary = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            temporary.write_text(json.dumps(job, ensure_ascii=False, default=str), encoding="utf-8")
            temporary.replace(target)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def admit_work(body: AdmitIn, *, settings: Settings, policy: Policy, actor: str) -> Work:
    """The work of an admit job: what ``steward admit --json`` does and prints."""

    def work(progress: Progress) -> dict[str, Any]:
        from modelsteward.gate import admit  # noqa: PLC0415 -- the gate is heavy; only jobs need it
        from modelsteward.reports.admission_json import outcome_to_json  # noqa: PLC0415

        evaluation = None if body.evaluation is None else _request(body.evaluation)
        outcome = admit(
            body.source,
            name=body.name,
            policy=policy,
            settings=settings,
            actor=actor,
            derived_from=body.derived_from,
            evaluation=evaluation,
            env=os.environ,
            progress=progress,
        )
        return outcome_to_json(outcome)

    return work


def compare_work(body: CompareIn, *, settings: Settings) -> Work:
    """The work of a compare job: what ``steward compare --json`` does and prints."""

    def work(progress: Progress) -> dict[str, Any]:
        from modelsteward.cli import _evaluation_options  # noqa: PLC0415
        from modelsteward.gate import compare_models  # noqa: PLC0415

        request = _request(body)
        _evaluation_options.check_comparison(body.models, body.metric, request)
        leaderboard = compare_models(
            body.models, request, settings=settings, metric=body.metric, progress=progress
        )
        return leaderboard.to_json()

    return work


def verify_work(body: VerifyIn, *, settings: Settings) -> Work:
    """The work of a verify job: what ``steward verify --json`` does and prints, on the stored copy."""

    def work(progress: Progress) -> dict[str, Any]:
        from modelsteward.gate import verify  # noqa: PLC0415

        progress(f"hashing the stored copy of {body.ref}")
        return verify(body.ref, settings=settings).to_json()

    return work


def evaluate_work(body: EvaluateIn, *, settings: Settings, actor: str) -> Work:
    """The work of an evaluate job: what ``steward evaluate --json`` does and prints."""

    def work(progress: Progress) -> dict[str, Any]:
        from modelsteward.gate import evaluate_model  # noqa: PLC0415

        evaluated = evaluate_model(
            body.model,
            _request(body),
            settings=settings,
            actor=actor,
            record=body.record,
            progress=progress,
        )
        document = evaluated.evaluation.to_json()
        document["recorded"] = evaluated.ref if evaluated.recorded else None
        return document

    return work


def _request(body: EvaluationIn) -> Any:
    """The EvaluationRequest the CLI would build from the same options (its own option code reads them)."""
    from modelsteward.cli import _evaluation_options  # noqa: PLC0415

    parser = argparse.ArgumentParser(add_help=False)
    _evaluation_options.add(parser, data_required=False)
    args = parser.parse_args([])
    args.data = Path(body.data)
    args.task = body.task
    args.columns = body.columns
    args.limit = body.limit
    args.adapter = body.adapter
    args.option = [f"{key}={json.dumps(value)}" for key, value in body.options.items()]
    args.sensitive = body.sensitive
    args.positive = body.positive
    args.resamples = body.resamples
    args.seed = body.seed
    args.no_fairness = body.no_fairness
    args.batch_size = body.batch_size
    # Never without the sandbox from the server: --no-sandbox is for a person at their own machine.
    args.no_sandbox = False
    return _evaluation_options.request(args)
