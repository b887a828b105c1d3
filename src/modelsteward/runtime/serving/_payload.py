"""The predict API's JSON: a request body as a :class:`Batch`, a :class:`Prediction` as rows of output.

A body is ``{"inputs": ROWS, "id": ...}``; ROWS is one row or a list of rows. A text row is
``{"text": "..."}``; a tabular row maps feature names to numbers, and the first row's order of names is
the order of the model's feature columns (every row must name the same features). Every problem is a
:class:`PayloadError` whose message names the row and field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelsteward.checks.performance.adapters import Batch, ModelDescription, Operation, Prediction
from modelsteward.monitoring import Value


class PayloadError(ValueError):
    """A request body that is not a valid predict request; ``status`` is 400 (not JSON) or 422."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status to answer with."""


@dataclass(frozen=True, slots=True)
class PredictRequest:
    """A parsed predict request."""

    batch: Batch
    """What the worker is asked to run."""
    inputs: tuple[Mapping[str, Value], ...]
    """Each row's inputs by column name, as events log them (before redaction)."""
    client_id: str | None = None
    """The body's ``id``, when the client gave one: the request id, unless a header names another."""


def parse_request(body: bytes, description: ModelDescription) -> PredictRequest:
    """Read a predict request for the model ``description`` describes; raise :class:`PayloadError`."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PayloadError(f"the body is not valid JSON: {error}", status=400) from None
    if not isinstance(document, dict):
        raise PayloadError(f"the body must be a JSON object with `inputs`, not {type(document).__name__}")
    unknown = sorted(set(document) - {"inputs", "id", "operation"})
    if unknown:
        raise PayloadError(
            f"unknown field(s) {', '.join(map(repr, unknown))}; expected inputs, id, operation"
        )
    client_id = document.get("id")
    if client_id is not None and (not isinstance(client_id, (str, int)) or isinstance(client_id, bool)):
        raise PayloadError("`id` must be a string or an integer")
    if isinstance(client_id, str) and not (0 < len(client_id) <= 200):
        raise PayloadError("`id` must be 1 to 200 characters")
    rows = document.get("inputs")
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list) or not rows:
        raise PayloadError("`inputs` must be a row (a JSON object) or a non-empty list of rows")
    operation = _operation(document.get("operation"), description)
    if all(isinstance(row, dict) and set(row) == {"text"} for row in rows):
        batch, inputs = _texts(rows, operation)
    else:
        batch, inputs = _features(rows, operation, description)
    return PredictRequest(batch, inputs, None if client_id is None else str(client_id))


def _operation(requested: object, description: ModelDescription) -> Operation:
    offered = ", ".join(map(str, description.operations))
    if requested is None:
        return description.operations[0]
    if requested not in {str(op) for op in description.operations}:
        raise PayloadError(f"`operation` must be one the model offers ({offered}); got {requested!r}")
    return Operation(str(requested))


def _texts(rows: list[Any], operation: Operation) -> tuple[Batch, tuple[Mapping[str, Value], ...]]:
    for index, row in enumerate(rows):
        if not isinstance(row["text"], str):
            raise PayloadError(f"inputs[{index}].text must be a string")
    texts = tuple(row["text"] for row in rows)
    return Batch(operation, texts=texts), tuple({"text": text} for text in texts)


def _features(
    rows: list[Any], operation: Operation, description: ModelDescription
) -> tuple[Batch, tuple[Mapping[str, Value], ...]]:
    names: list[str] = []
    values = np.empty((len(rows), 0))
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or not row:
            raise PayloadError(
                f'inputs[{index}] must be a JSON object: {{"text": ...}} or feature names with numbers'
            )
        if index == 0:
            names = list(row)
            values = np.empty((len(rows), len(names)))
        elif set(row) != set(names):
            raise PayloadError(
                f"inputs[{index}] names features {sorted(row)}; every row must name those of inputs[0]: "
                f"{sorted(names)}"
            )
        for column, name in enumerate(names):
            number = row[name]
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
                raise PayloadError(f"inputs[{index}].{name} must be a finite number (got {number!r})")
            values[index, column] = number
    expected = description.details.get("features")
    if isinstance(expected, int) and expected != len(names):
        raise PayloadError(f"the model takes {expected} features; the rows give {len(names)}")
    inputs = tuple(dict(zip(names, row.tolist(), strict=True)) for row in values)
    return Batch(operation, features=values), inputs


def outputs(prediction: Prediction, rows: int) -> list[dict[str, Any]]:
    """Each row's answer as JSON: ``label`` and ``scores``, ``value``, ``embedding``, ``text``..."""
    answers: list[dict[str, Any]] = [{} for _ in range(rows)]
    for index, answer in enumerate(answers):
        if prediction.labels is not None:
            answer["label"] = prediction.labels[index]
        if prediction.scores is not None and prediction.classes is not None:
            answer["scores"] = dict(zip(prediction.classes, prediction.scores[index].tolist(), strict=True))
        if prediction.values is not None:
            answer["value"] = float(prediction.values[index])
        if prediction.embeddings is not None:
            answer["embedding"] = prediction.embeddings[index].tolist()
        if prediction.texts is not None:
            answer["text"] = prediction.texts[index]
        if prediction.entities is not None:
            answer["entities"] = [
                {"label": e.label, "start": e.start, "end": e.end} for e in prediction.entities[index]
            ]
    return answers


def logged_outputs(answer: Mapping[str, Any]) -> dict[str, Value]:
    """One row's answer as event columns: scalars and vectors only (the top class's score, not a map)."""
    logged: dict[str, Value] = {
        name: answer[name] for name in ("label", "value", "embedding", "text") if name in answer
    }
    if "scores" in answer and "label" in answer:
        logged["score"] = answer["scores"].get(answer["label"])
    if "entities" in answer:
        logged["entities"] = json.dumps(answer["entities"])
    return logged
