"""Aliases: where ``production`` points, and moving it (owners and admins)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from modelsteward.server._auth import Promoter, Reader
from modelsteward.server._schemas import AliasIn, ErrorOut, VersionOut, version_json
from modelsteward.server._state import state

router = APIRouter(tags=["aliases"], responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})


@router.get("/models/{name:path}/aliases/{alias}", response_model=VersionOut)
async def get_alias(request: Request, _user: Reader, name: str, alias: str) -> Response:
    """The version an alias points at."""
    return JSONResponse(version_json(state(request).registry.version_summary(name, alias=alias)))


@router.put("/models/{name:path}/aliases/{alias}", response_model=VersionOut)
def set_alias(request: Request, user: Promoter, name: str, alias: str, body: AliasIn) -> Response:
    """Point an alias at a version. The policy's ``promotion`` section names the reviewer domains whose
    approval the version needs first (409 naming the missing ones otherwise)."""
    server = state(request)
    server.registry.set_alias(
        name,
        alias,
        body.version,
        actor=user.name,
        required_approvals=server.policy.required_approvals(alias),
    )
    return JSONResponse(version_json(server.registry.version_summary(name, number=body.version)))


@router.delete("/models/{name:path}/aliases/{alias}", status_code=204)
def remove_alias(request: Request, user: Promoter, name: str, alias: str) -> Response:
    """Remove an alias."""
    state(request).registry.remove_alias(name, alias, actor=user.name)
    return Response(status_code=204)


@router.post("/models/{name:path}/aliases/{alias}/rollback", response_model=VersionOut)
def rollback_alias(request: Request, user: Promoter, name: str, alias: str) -> Response:
    """Point an alias back where it pointed before its latest move; returns that version. That version
    needs the approvals the policy's ``promotion`` section names, as for a move (409 otherwise)."""
    server = state(request)
    info = server.registry.rollback(
        name, alias, actor=user.name, required_approvals=server.policy.required_approvals(alias)
    )
    return JSONResponse(version_json(server.registry.version_summary(name, number=info.number)))
