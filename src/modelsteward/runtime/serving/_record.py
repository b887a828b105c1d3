"""The events one predict request leaves: one per row, sampled by request id, configured inputs redacted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from modelsteward.monitoring import Event, Value
from modelsteward.monitoring._privacy import redact, sampled


@dataclass(frozen=True, slots=True)
class EventPolicy:
    """Which requests are logged, and what of their inputs is kept."""

    sample_rate: float = 1.0
    """The share of requests logged, decided by request id (the same id is always in or out)."""
    redact: frozenset[str] = frozenset()
    """Input columns whose values are never stored (replaced by ``[redacted]``)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.sample_rate <= 1.0:
            raise ValueError(f"the sample rate must lie between 0 and 1 (got {self.sample_rate:g})")


def request_events(
    *,
    request_id: str,
    model: str,
    version: int,
    at: datetime,
    inputs: Sequence[Mapping[str, Value]],
    outputs: Sequence[Mapping[str, Value]] | None,
    latency_seconds: float | None,
    error: str | None,
    policy: EventPolicy,
) -> list[Event]:
    """The events of one request: one per row (``ID`` for one row, ``ID/0``, ``ID/1``, ... for more).

    ``outputs`` is None when the request failed; its ``error`` is then on every row's event.
    Returns no events for a request the sample leaves out.
    """
    if not sampled(request_id, policy.sample_rate):
        return []
    latency_ms = None if latency_seconds is None else latency_seconds * 1000.0
    return [
        redact(
            Event(
                request_id=request_id if len(inputs) == 1 else f"{request_id}/{index}",
                model=model,
                version=version,
                at=at,
                inputs=row,
                outputs={} if outputs is None else outputs[index],
                latency_ms=latency_ms,
                error=error,
            ),
            policy.redact,
        )
        for index, row in enumerate(inputs)
    ]
