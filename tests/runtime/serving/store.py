"""Events read back from the real event store, as :class:`Event` values keyed by request id."""

from __future__ import annotations

from pathlib import Path

from modelsteward.monitoring import Event
from modelsteward.monitoring._store import EventStore


def stored_events(root: Path, model: str) -> dict[str, Event]:
    """Every stored event of ``model`` under ``root``; columns an event lacks (null) are left out."""
    found = {}
    for row in EventStore(root).read(model).to_pylist():
        side = {
            prefix: {
                k.removeprefix(prefix): v for k, v in row.items() if k.startswith(prefix) and v is not None
            }
            for prefix in ("input.", "output.")
        }
        found[row["request_id"]] = Event(
            request_id=row["request_id"],
            model=row["model"],
            version=row["version"],
            at=row["at"],
            inputs=side["input."],
            outputs=side["output."],
            latency_ms=row["latency_ms"],
            error=row["error"],
        )
    return found
