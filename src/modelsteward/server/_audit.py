"""The audit log: read it page by page, and check its chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from modelsteward.server._auth import Reader
from modelsteward.server._schemas import AuditPageOut, AuditReportOut, Limit, Offset, audit_json, page_json
from modelsteward.server._state import state

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=AuditPageOut)
def list_audit(
    request: Request,
    _user: Reader,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=50)] = None,
    subject: Annotated[
        str | None, Query(max_length=400, description="NAME (with its versions) or NAME@N.")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """Audit entries, newest first."""
    page = state(request).registry.audit_page(
        actor=actor, action=action, subject=subject, limit=limit, offset=offset
    )
    return JSONResponse(page_json(page, audit_json))


@router.get("/audit/verify", response_model=AuditReportOut)
def verify_audit(
    request: Request,
    _user: Reader,
    anchor: Annotated[str | None, Query(max_length=64, description="A head hash recorded earlier.")] = None,
) -> dict[str, Any]:
    """Check the whole audit chain: every edited, deleted or reordered entry is a problem."""
    report = state(request).registry.verify_audit(anchor=anchor)
    return {
        "ok": report.ok,
        "entries": report.entries,
        "head": None if report.head is None else audit_json(report.head),
        "problems": [{"seq": p.seq, "kind": p.kind.value, "detail": p.detail} for p in report.problems],
    }
