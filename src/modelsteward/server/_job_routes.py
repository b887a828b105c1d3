"""Starting admit and evaluate jobs, and following them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from modelsteward.server._auth import Reader, Submitter
from modelsteward.server._jobs import admit_work, compare_work, evaluate_work, verify_work
from modelsteward.server._schemas import AdmitIn, CompareIn, ErrorOut, EvaluateIn, JobOut, VerifyIn
from modelsteward.server._state import state

router = APIRouter(tags=["jobs"], responses={404: {"model": ErrorOut}})


@router.post("/jobs/admit", response_model=JobOut, status_code=202)
def start_admit(request: Request, user: Submitter, body: AdmitIn) -> dict[str, Any]:
    """Admit a model as ``steward admit`` does (fetch, check, decide by the server's policy, register),
    in the background; follow it at ``GET /api/v1/jobs/{id}``."""
    server = state(request)
    work = admit_work(body, settings=server.settings, policy=server.policy, actor=user.name)
    return server.jobs.submit("admit", body.model_dump(), user.name, work)


@router.post("/jobs/evaluate", response_model=JobOut, status_code=202)
def start_evaluate(request: Request, user: Submitter, body: EvaluateIn) -> dict[str, Any]:
    """Evaluate a registered version on data on the server, in the sandbox, as ``steward evaluate`` does."""
    server = state(request)
    work = evaluate_work(body, settings=server.settings, actor=user.name)
    return server.jobs.submit("evaluate", body.model_dump(), user.name, work)


@router.post("/jobs/compare", response_model=JobOut, status_code=202)
def start_compare(request: Request, user: Submitter, body: CompareIn) -> dict[str, Any]:
    """Evaluate several models on the same rows of data on the server and rank them, as
    ``steward compare`` does."""
    server = state(request)
    return server.jobs.submit(
        "compare", body.model_dump(), user.name, compare_work(body, settings=server.settings)
    )


@router.post("/jobs/verify", response_model=JobOut, status_code=202)
def start_verify(request: Request, user: Reader, body: VerifyIn) -> dict[str, Any]:
    """Check the stored copy of a version against its manifest and the enterprise signature, as
    ``steward verify`` does, in the background (it hashes every file)."""
    server = state(request)
    return server.jobs.submit(
        "verify", body.model_dump(), user.name, verify_work(body, settings=server.settings)
    )


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(
    request: Request, _user: Reader, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[dict[str, Any]]:
    """The latest jobs, newest first."""
    return state(request).jobs.recent(limit)


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(request: Request, _user: Reader, job_id: str) -> dict[str, Any]:
    """A job's status (queued, running, succeeded, failed), its latest progress and, once done, its
    result or error."""
    return state(request).jobs.get(job_id)
