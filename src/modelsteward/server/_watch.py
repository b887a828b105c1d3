"""What the watch keeps: each model's upstream as ``steward watch`` last saw it, and the vulnerabilities
audits found in the components of registered versions. Read only: checking upstream and syncing
advisories reach the network and admit candidates, which stays ``steward watch``'s work."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from modelsteward.registry import ModelSummary, Registry, valid_model_name
from modelsteward.server._auth import Reader
from modelsteward.server._schemas import (
    ErrorOut,
    Limit,
    Offset,
    UpstreamOut,
    UpstreamPageOut,
    VulnerabilityPageOut,
    page_json,
    upstream_json,
    vulnerability_json,
)
from modelsteward.server._state import state

router = APIRouter(tags=["watch"], responses={404: {"model": ErrorOut}})


@router.get("/upstream", response_model=UpstreamPageOut)
def list_upstream(request: Request, _user: Reader, limit: Limit = 50, offset: Offset = 0) -> Response:
    """Every model by name, one page at a time: its latest version as admitted beside what
    ``steward watch`` last saw upstream of it (null for a model it has not looked at)."""
    registry = state(request).registry
    page = registry.models_page(limit=limit, offset=offset)
    return JSONResponse(page_json(page, lambda model: _upstream(registry, model)))


@router.get("/upstream/{name:path}", response_model=UpstreamOut)
def get_upstream(request: Request, _user: Reader, name: str) -> Response:
    """One model's latest version as admitted beside what ``steward watch`` last saw upstream of it."""
    registry = state(request).registry
    summary, _ = registry.model_detail(valid_model_name(name), recent=1)
    return JSONResponse(_upstream(registry, summary))


@router.get("/vulnerabilities", response_model=VulnerabilityPageOut)
def list_vulnerabilities(
    request: Request,
    _user: Reader,
    model: Annotated[str | None, Query(max_length=200, description="Only this model's versions.")] = None,
    advisory: Annotated[
        str | None, Query(max_length=100, description="Only this advisory: its id or an alias, any case.")
    ] = None,
    status: Literal["open", "resolved", "all"] = "open",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """Vulnerabilities audits found in registered versions' components (``steward audit-deps``,
    ``steward watch``, the gate), by model name, newest version first: those that hold unless
    ``status`` says otherwise; with how many advisories the offline database holds."""
    registry = state(request).registry
    page = registry.vulnerabilities_page(
        model=model, advisory=advisory, status=status, limit=limit, offset=offset
    )
    return JSONResponse({**page_json(page, vulnerability_json), "advisories": registry.advisory_count()})


def _upstream(registry: Registry, model: ModelSummary) -> dict[str, Any]:
    latest = None if model.latest is None else registry.version_summary(model.name, number=model.latest)
    return upstream_json(model.name, registry.upstream_record(model.name), latest)
