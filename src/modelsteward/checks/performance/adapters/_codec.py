"""Adapter values as sandbox messages, and back: a JSON header plus named numeric arrays.

Both sides use these functions. The parent treats every reply as hostile: decoding checks types, row
counts and shapes against the batch it sent and refuses anything else with :class:`AdapterError`.
Features and scores travel as float64 (metrics such as ROC-AUC must see the model's own ties), embeddings
as float32; text as JSON strings. Strings a report may print are made printable (names) or, where they
must stay exact for matching (class and entity labels), refused when they hold control characters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from modelsteward._text import printable
from modelsteward.checks.performance.adapters._base import (
    AdapterError,
    Batch,
    Entity,
    ModelDescription,
    Operation,
    Prediction,
)
from modelsteward.runtime.sandbox import Message

_ERROR_CHARS = 2000
_NAME_CHARS = 200
_DETAILS_BYTES = 64 << 10
# Per operation: the prediction fields a reply must carry, and those it may carry besides.
_REQUIRED = {
    Operation.CLASSIFY: frozenset({"labels"}),
    Operation.REGRESS: frozenset({"values"}),
    Operation.EMBED: frozenset({"embeddings"}),
    Operation.GENERATE: frozenset({"texts"}),
    Operation.TAG: frozenset({"entities"}),
}
_OPTIONAL = {Operation.CLASSIFY: frozenset({"scores", "classes"})}
_FIELDS = frozenset({"labels", "scores", "classes", "values", "embeddings", "texts", "entities"})


@dataclass(frozen=True, slots=True)
class LoadRequest:
    """What the worker is asked to load."""

    adapter: str | None
    """The adapter's name; None lets the worker pick one by the files (:func:`detect_adapter`)."""
    root: Path
    options: Mapping[str, Any]


def encode_load(adapter: str | None, root: Path, options: Mapping[str, Any]) -> Message:
    """The request that makes the worker load the model under ``root``."""
    return Message({"op": "load", "adapter": adapter, "root": str(root), "options": dict(options)})


def decode_load(message: Message) -> LoadRequest:
    """Read a load request."""
    header = message.header
    adapter, root, options = header.get("adapter"), header.get("root"), header.get("options", {})
    if adapter is not None and not isinstance(adapter, str):
        raise AdapterError(f"load request: `adapter` must be a name or null (got {adapter!r})")
    if not isinstance(root, str) or not root:
        raise AdapterError("load request: `root` must be a path")
    if not isinstance(options, dict):
        raise AdapterError("load request: `options` must be a JSON object")
    return LoadRequest(adapter, Path(root), options)


def encode_error(text: str) -> Message:
    """A reply saying the request failed, and why."""
    return Message({"error": text})


def encode_batch(batch: Batch) -> Message:
    """The predict request for ``batch``."""
    header: dict[str, Any] = {
        "op": "predict",
        "operation": str(batch.operation),
        "options": dict(batch.options),
    }
    if batch.texts is not None:
        header["texts"] = list(batch.texts)
    arrays = (
        {} if batch.features is None else {"features": np.ascontiguousarray(batch.features, dtype=np.float64)}
    )
    return Message(header, arrays)


def decode_batch(message: Message) -> Batch:
    """Read a predict request (in the worker)."""
    header = message.header
    operation = _operation(header.get("operation"))
    options = header.get("options", {})
    if not isinstance(options, dict):
        raise AdapterError("predict request: `options` must be a JSON object")
    features = message.arrays.get("features")
    texts = header.get("texts")
    if (features is None) == (texts is None):
        raise AdapterError("predict request: give exactly one of `features` and `texts`")
    if features is not None:
        if features.ndim != 2 or features.dtype.kind not in "fiub":
            raise AdapterError(
                f"predict request: `features` must be 2-D and numeric, not {features.dtype} {features.shape}"
            )
        return Batch(operation, features=features.astype(np.float64, copy=False), options=options)
    return Batch(operation, texts=_strings(texts, "texts", None), options=options)


def encode_prediction(prediction: Prediction) -> Message:
    """The reply carrying ``prediction``."""
    header: dict[str, Any] = {}
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name in ("classes", "texts"):
        value = getattr(prediction, name)
        if value is not None:
            header[name] = list(value)
    if prediction.labels is not None:
        # Labels as indices into the classes: a numeric array costs far less than a JSON list of text.
        position = {label: index for index, label in enumerate(prediction.classes or ())}
        try:
            arrays["label_index"] = np.fromiter(
                map(position.__getitem__, prediction.labels), dtype=np.int32, count=len(prediction.labels)
            )
        except KeyError:  # a label outside the classes (or no classes): the labels go as text
            header["labels"] = list(prediction.labels)
    if prediction.entities is not None:
        header["entities"] = [[[e.label, e.start, e.end] for e in row] for row in prediction.entities]
    for name, dtype in (("scores", np.float64), ("values", np.float64), ("embeddings", np.float32)):
        value = getattr(prediction, name)
        if value is not None:
            arrays[name] = np.ascontiguousarray(value, dtype=dtype)
    return Message(header, arrays)


def decode_prediction(message: Message, batch: Batch) -> Prediction:
    """Read and check the worker's reply to ``batch``; raise :class:`AdapterError` for anything amiss."""
    header, arrays = message.header, message.arrays
    _raise_reported_error(header)
    rows = len(batch)
    present = {name for name in _FIELDS if name in header or name in arrays}
    if "label_index" in arrays:
        present.add("labels")
    missing = _REQUIRED[batch.operation] - present
    extra = present - _REQUIRED[batch.operation] - _OPTIONAL.get(batch.operation, frozenset())
    if missing or extra:
        raise AdapterError(
            f"a {batch.operation} reply must carry {', '.join(sorted(_REQUIRED[batch.operation]))}"
            f" (missing {sorted(missing)}, unexpected {sorted(extra)})"
        )
    if batch.operation is Operation.CLASSIFY:
        return _classification(header, arrays, rows)
    if batch.operation is Operation.REGRESS:
        return Prediction(values=_array(arrays, "values", (rows,), np.float64))
    if batch.operation is Operation.EMBED:
        embeddings = _array(arrays, "embeddings", (rows, None), np.float32)
        if embeddings.shape[1] == 0:
            raise AdapterError("reply `embeddings` has no dimensions")
        return Prediction(embeddings=embeddings)
    if batch.operation is Operation.GENERATE:
        return Prediction(texts=_strings(header["texts"], "texts", rows))
    return Prediction(entities=_entities(header["entities"], batch.texts or ()))


def description_to_header(description: ModelDescription) -> dict[str, Any]:
    """The reply header describing a loaded model."""
    return {
        "adapter": description.adapter,
        "framework": description.framework,
        "operations": [str(operation) for operation in description.operations],
        "classes": list(description.classes),
        "parameters": description.parameters,
        "details": dict(description.details),
    }


def description_from_header(header: Mapping[str, Any]) -> ModelDescription:
    """Read and check the worker's description of the model it loaded."""
    _raise_reported_error(header)
    adapter, framework = header.get("adapter"), header.get("framework")
    operations, parameters, details = (
        header.get("operations"),
        header.get("parameters"),
        header.get("details", {}),
    )
    if not isinstance(adapter, str) or not adapter or not isinstance(framework, str):
        raise AdapterError("the model description lacks its adapter or framework name")
    if not isinstance(operations, list) or not operations:
        raise AdapterError("the model description lists no operations")
    if parameters is not None and (type(parameters) is not int or parameters < 0):
        raise AdapterError(f"the model description's parameter count is not a count (got {parameters!r})")
    if not isinstance(details, dict):
        raise AdapterError("the model description's details are not a JSON object")
    # Details are only ever written out escaped (JSON, HTML), so bounding their size is enough.
    if len(json.dumps(details).encode()) > _DETAILS_BYTES:
        raise AdapterError(f"the model description's details exceed {_DETAILS_BYTES >> 10} KiB of JSON")
    return ModelDescription(
        adapter=printable(adapter, _NAME_CHARS),
        framework=printable(framework, _NAME_CHARS),
        operations=tuple(_operation(operation) for operation in operations),
        classes=_labels(header.get("classes", []), "classes", None),
        parameters=parameters,
        details=details,
    )


def _classification(
    header: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]], rows: int
) -> Prediction:
    if ("scores" in arrays) != ("classes" in header):
        raise AdapterError("a classify reply must carry `scores` and `classes` together")
    if "scores" not in arrays:
        return Prediction(labels=_labels(header.get("labels"), "labels", rows))
    classes = _labels(header["classes"], "classes", None)
    if len(set(classes)) != len(classes):
        raise AdapterError("reply `classes` repeats a label")
    scores = _array(arrays, "scores", (rows, len(classes)), np.float64)
    if "label_index" not in arrays:
        return Prediction(
            labels=_labels(header.get("labels"), "labels", rows), scores=scores, classes=classes
        )
    index = arrays["label_index"]
    if (
        index.shape != (rows,)
        or index.dtype.kind not in "iu"
        or ((index < 0) | (index >= len(classes))).any()
    ):
        raise AdapterError(f"reply `label_index` must hold {rows} indices into the {len(classes)} classes")
    names = np.asarray(classes, dtype=object)
    return Prediction(labels=tuple(names[index].tolist()), scores=scores, classes=classes)


def _array(
    arrays: Mapping[str, npt.NDArray[Any]],
    name: str,
    shape: tuple[int | None, ...],
    dtype: type[np.floating[Any]],
) -> npt.NDArray[Any]:
    """The named array, of ``shape`` (None: any size), finite, as ``dtype``."""
    value = arrays.get(name)
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        raise AdapterError(f"reply `{name}` is not a floating-point array")
    if value.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(value.shape, shape, strict=True)
    ):
        expected = " x ".join("any" if want is None else str(want) for want in shape)
        raise AdapterError(f"reply `{name}` has shape {value.shape}, expected {expected}")
    if not np.isfinite(value).all():
        raise AdapterError(f"reply `{name}` holds values that are not finite")
    return value.astype(dtype, copy=False)


def _strings(value: Any, name: str, rows: int | None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AdapterError(f"`{name}` must be a list of strings")
    if rows is not None and len(value) != rows:
        raise AdapterError(f"`{name}` has {len(value)} items for a batch of {rows} rows")
    return tuple(value)


def _labels(value: Any, name: str, rows: int | None) -> tuple[str, ...]:
    """Like :func:`_strings`, but refusing control characters: labels are matched exactly, so a label
    cannot be made printable by changing it."""
    labels = _strings(value, name, rows)
    for label in labels:
        _check_label(label, name)
    return labels


def _check_label(label: str, name: str) -> None:
    if not label.isprintable():
        raise AdapterError(f"`{name}` holds a label with control characters: {printable(label, _NAME_CHARS)}")


def _entities(value: Any, texts: tuple[str, ...]) -> tuple[tuple[Entity, ...], ...]:
    if not isinstance(value, list) or len(value) != len(texts):
        raise AdapterError(f"reply `entities` must be a list of {len(texts)} rows")
    decoded = []
    for text, row in zip(texts, value, strict=True):
        if not isinstance(row, list):
            raise AdapterError("reply `entities` has a row that is not a list")
        entities = []
        for item in row:
            if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)):
                raise AdapterError(f"reply entity {item!r} is not [label, start, end]")
            label, start, end = item
            _check_label(label, "entities")
            if type(start) is not int or type(end) is not int or not 0 <= start <= end <= len(text):
                raise AdapterError(
                    f"reply entity {item!r} has offsets outside its text of {len(text)} characters"
                )
            entities.append(Entity(label, start, end))
        decoded.append(tuple(entities))
    return tuple(decoded)


def _operation(value: Any) -> Operation:
    try:
        return Operation(value)
    except ValueError:
        raise AdapterError(f"{value!r} is not an operation ({', '.join(Operation)})") from None


def _raise_reported_error(header: Mapping[str, Any]) -> None:
    """Raise the failure the worker reported, printable and short: its text is not to be trusted either."""
    if "error" in header:
        raise AdapterError(printable(str(header["error"]), _ERROR_CHARS, keep="\n"))
