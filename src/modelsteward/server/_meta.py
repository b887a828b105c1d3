"""Health (no authentication) and the caller's own identity."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from modelsteward import __version__
from modelsteward.server._auth import Reader
from modelsteward.server._schemas import HealthOut, UserOut, user_json

router = APIRouter(tags=["meta"])

_HEALTH = {"status": "ok", "version": __version__}


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> Response:
    """Whether the server answers: no authentication, no database."""
    return JSONResponse(_HEALTH)


@router.get("/me", response_model=UserOut)
async def me(user: Reader) -> Response:
    """The user the token authenticates."""
    return JSONResponse(user_json(user))
