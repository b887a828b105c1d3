"""Running a whole column of inputs through a session, batch by batch, and joining the answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from modelsteward.checks.performance.adapters import Batch, Operation, Prediction
from modelsteward.core.progress import Progress
from modelsteward.evaluation._session import EvaluationError, Session

Inputs = npt.NDArray[np.float64] | Sequence[str]
"""Numeric rows (2-D) or one text per row."""


@dataclass(frozen=True, slots=True)
class Run:
    """One pass of inputs through a model."""

    prediction: Prediction
    """The answers for every row, in row order."""
    latencies: tuple[float, ...]
    """Seconds per batch, as the client saw them (sandbox round trip included)."""
    rows: int
    options: Mapping[str, Any] = field(default_factory=dict)


def run_all(
    session: Session,
    operation: Operation,
    inputs: Inputs,
    *,
    batch_size: int,
    options: Mapping[str, Any] | None = None,
    say: Progress | None = None,
    what: str = "rows",
) -> Run:
    """Predict every row of ``inputs`` in batches of ``batch_size`` and join the predictions."""
    rows = len(inputs)
    parts: list[Prediction] = []
    latencies: list[float] = []
    for start in range(0, rows, batch_size):
        batch = make_batch(operation, inputs, start, start + batch_size, options)
        prediction, seconds = session.predict(batch)
        parts.append(prediction)
        latencies.append(seconds)
        if say is not None:
            say(f"{min(start + batch_size, rows)}/{rows} {what}")
    return Run(join(parts), tuple(latencies), rows, dict(options or {}))


def make_batch(
    operation: Operation, inputs: Inputs, start: int, stop: int, options: Mapping[str, Any] | None = None
) -> Batch:
    """Rows ``start`` to ``stop`` of ``inputs`` as one batch."""
    if isinstance(inputs, np.ndarray):
        return Batch(operation, features=inputs[start:stop], options=dict(options or {}))
    return Batch(operation, texts=tuple(inputs[start:stop]), options=dict(options or {}))


def join(parts: Sequence[Prediction]) -> Prediction:
    """The predictions of consecutive batches as one."""
    if not parts:
        raise EvaluationError("no rows to evaluate")
    first = parts[0]
    classes = first.classes
    if any(p.classes != classes for p in parts):
        raise EvaluationError("the model reported different classes for different batches")

    def texts(name: str) -> tuple[Any, ...] | None:
        values = [getattr(p, name) for p in parts]
        return None if values[0] is None else tuple(item for value in values for item in value)

    def arrays(name: str) -> Any:
        values = [getattr(p, name) for p in parts]
        return None if values[0] is None else np.concatenate(values, axis=0)

    return Prediction(
        labels=texts("labels"),
        scores=arrays("scores"),
        classes=classes,
        values=arrays("values"),
        embeddings=arrays("embeddings"),
        texts=texts("texts"),
        entities=texts("entities"),
    )
