"""Monitoring: the KPIs of a model's logged predictions, window by window."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from modelsteward.registry import valid_model_name
from modelsteward.server._auth import Reader
from modelsteward.server._schemas import KpisOut
from modelsteward.server._state import state

router = APIRouter(tags=["monitoring"])


@router.get("/monitoring/{name:path}/kpis", response_model=KpisOut)
def model_kpis(
    request: Request,
    _user: Reader,
    name: str,
    version: Annotated[int | None, Query(ge=1, le=999_999_999)] = None,
    window: Annotated[int, Query(ge=60, le=30 * 86400, description="Window length in seconds.")] = 3600,
    windows: Annotated[int, Query(ge=1, le=500, description="How many windows back from now.")] = 24,
) -> dict[str, Any]:
    """Count, throughput, error rate, latency percentiles, accuracy and F1 per window, newest last;
    empty when the model has no events in that time."""
    from modelsteward.monitoring import EventStore, kpis  # noqa: PLC0415 -- pyarrow and DuckDB on demand

    valid_model_name(name)  # names become folders of the event store
    length = timedelta(seconds=window)
    now = datetime.now(UTC)
    end = datetime.fromtimestamp((now.timestamp() // window + 1) * window, UTC)
    start = end - windows * length
    table = EventStore(state(request).settings.events).read(name, version=version, start=start, end=end)
    found = [] if table.num_rows == 0 else kpis(table, window=length, start=start, end=end)
    return {
        "model": name,
        "version": version,
        "window_seconds": window,
        "windows": [
            {
                "start": w.start,
                "end": w.end,
                "count": w.count,
                "throughput": _finite(w.throughput),
                "error_rate": _finite(w.error_rate),
                "latency_p50_ms": _finite(w.latency_p50_ms),
                "latency_p95_ms": _finite(w.latency_p95_ms),
                "latency_p99_ms": _finite(w.latency_p99_ms),
                "labelled": w.labelled,
                "accuracy": _finite(w.accuracy),
                "f1": _finite(w.f1),
            }
            for w in found
        ],
    }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
