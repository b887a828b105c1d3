"""One logged prediction: what a served model was asked, what it answered, and how long it took."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

INPUT = "input."
"""The event store's prefix of input columns: the request's ``age`` is stored as ``input.age``."""
OUTPUT = "output."
"""The event store's prefix of output columns: the answer's ``label`` is stored as ``output.label``."""

Value = str | int | float | bool | None | Sequence[float]
"""A logged input or output: a scalar, or a vector of numbers (an embedding, class probabilities)."""


@dataclass(frozen=True, slots=True)
class Event:
    """One prediction, as the server logs it and the event store keeps it."""

    request_id: str
    """Unique per prediction; ground truth that arrives later is joined on it."""
    model: str
    """The registered model's name (``org/bert``)."""
    version: int
    """The registered version that answered."""
    at: datetime
    """When the request arrived; must carry a time zone."""
    inputs: Mapping[str, Value] = field(default_factory=dict)
    """Column -> value of the request (``text``, a feature's name), after redaction."""
    outputs: Mapping[str, Value] = field(default_factory=dict)
    """Column -> value of the answer (``label``, ``score``, ``value``, ``embedding``)."""
    latency_ms: float | None = None
    """Milliseconds the model call took, as the server measured it."""
    error: str | None = None
    """Why the prediction failed; None when it succeeded."""

    def __post_init__(self) -> None:
        if not self.request_id:
            raise ValueError("an event needs a request id")
        if self.at.utcoffset() is None:
            raise ValueError(f"event time must carry a time zone (got {self.at.isoformat()})")
        # A caller's dicts stay theirs to change; the event keeps read-only copies.
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))
        object.__setattr__(self, "outputs", MappingProxyType(dict(self.outputs)))
