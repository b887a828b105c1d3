"""Users and API tokens (administrators only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from modelsteward.server._auth import Admin
from modelsteward.server._schemas import (
    ErrorOut,
    IssuedTokenOut,
    RoleIn,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    token_json,
    user_json,
)
from modelsteward.server._state import state

router = APIRouter(tags=["users"], responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})


@router.get("/users", response_model=list[UserOut])
def list_users(request: Request, _user: Admin) -> list[dict[str, Any]]:
    """Every user, by name."""
    return [user_json(u) for u in state(request).registry.users()]


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(request: Request, user: Admin, body: UserIn) -> dict[str, Any]:
    """Add a user (reviewers name the domains they approve in)."""
    added = state(request).registry.add_user(body.name, body.role, domains=body.domains, actor=user.name)
    return user_json(added)


@router.get("/users/{name}", response_model=UserOut)
def get_user(request: Request, _user: Admin, name: str) -> dict[str, Any]:
    """One user."""
    return user_json(state(request).registry.user(name))


@router.put("/users/{name}/role", response_model=UserOut)
def set_role(request: Request, user: Admin, name: str, body: RoleIn) -> dict[str, Any]:
    """Give a user another role (and domains)."""
    changed = state(request).registry.set_role(name, body.role, domains=body.domains, actor=user.name)
    return user_json(changed)


@router.post("/users/{name}/disable", response_model=UserOut)
def disable_user(request: Request, user: Admin, name: str) -> dict[str, Any]:
    """Disable a user: their tokens stop authenticating (within a second)."""
    return user_json(state(request).registry.disable_user(name, actor=user.name))


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(
    request: Request, _user: Admin, user: Annotated[str | None, Query(max_length=100)] = None
) -> list[dict[str, Any]]:
    """Tokens (without secrets), of one user when given."""
    return [token_json(t) for t in state(request).registry.tokens(user)]


@router.post("/tokens", response_model=IssuedTokenOut, status_code=201)
def issue_token(request: Request, user: Admin, body: TokenIn) -> dict[str, Any]:
    """Issue a token; its secret is in this response only."""
    expires = None if body.expires_in_days == 0 else datetime.now(UTC) + timedelta(days=body.expires_in_days)
    issued = state(request).registry.issue_token(body.user, name=body.name, expires=expires, actor=user.name)
    return {**token_json(issued.info), "secret": issued.secret}


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(request: Request, user: Admin, token_id: str) -> dict[str, Any]:
    """Revoke a token: it stops authenticating (within a second)."""
    return token_json(state(request).registry.revoke_token(token_id, actor=user.name))
