"""Approvals and rejections: a reviewer's decision on a version, in one of their own domains."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from modelsteward.server._auth import Reviewer
from modelsteward.server._errors import ApiError
from modelsteward.server._schemas import ApprovalIn, ApprovalOut, ErrorOut, VersionNumber, approval_json
from modelsteward.server._state import state

router = APIRouter(tags=["approvals"], responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}})


@router.post("/models/{name:path}/versions/{number}/approvals", response_model=ApprovalOut, status_code=201)
def decide(request: Request, user: Reviewer, name: str, number: VersionNumber, body: ApprovalIn) -> Response:
    """Approve or reject a version in ``domain``, one of the caller's reviewer domains. Nobody decides on
    a version they submitted (separation of duties): 403."""
    if body.domain not in user.domains:
        mine = ", ".join(user.domains) or "none"
        raise ApiError(
            403, "forbidden", f"{user.name} reviews in {mine}, not {body.domain}: decide in your own domains"
        )
    registry = state(request).registry
    version = registry.version_summary(name, number=number)
    if version.submitted_by == user.name:
        raise ApiError(
            403,
            "separation_of_duties",
            f"{user.name} submitted {version.ref}: separation of duties needs someone else to decide on it",
        )
    decide_on = registry.approve if body.decision == "approve" else registry.reject
    approval = decide_on(version.ref, role=body.domain, actor=user.name, comment=body.comment)
    return JSONResponse(approval_json(approval), status_code=201)
