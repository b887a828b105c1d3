"""Alerts the monitor keeps in the registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from modelsteward.registry import AlertState
from modelsteward.server._auth import Reader
from modelsteward.server._schemas import AlertOut, alert_json
from modelsteward.server._state import state

router = APIRouter(tags=["alerts"])


@router.get("/alerts", response_model=list[AlertOut])
def list_alerts(
    request: Request,
    _user: Reader,
    alert_state: Annotated[AlertState | None, Query(alias="state")] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Alerts by rule, of one ``state`` and one ``model`` when given."""
    alerts = state(request).registry.alerts(state=alert_state)
    return JSONResponse([alert_json(a) for a in alerts if model is None or a.labels.get("model") == model])
