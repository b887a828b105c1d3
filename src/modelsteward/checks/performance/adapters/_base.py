"""The one interface every model adapter implements, and the values that cross it.

An adapter loads a model and predicts batches. Adapters that load model files run inside the sandboxed
worker (``modelsteward.runtime.sandbox``); only plain values (strings, numbers, numeric arrays) cross
the boundary, so the parent never unpickles anything the model produced.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import numpy.typing as npt


class Operation(enum.StrEnum):
    """What a batch asks the model to do."""

    CLASSIFY = "classify"
    """Features or texts -> a label per row and, where the model gives them, class probabilities."""
    REGRESS = "regress"
    """Features -> a number per row."""
    EMBED = "embed"
    """Texts -> a vector per row."""
    GENERATE = "generate"
    """Prompts -> generated text per row."""
    TAG = "tag"
    """Texts -> the entities found in each (token classification)."""


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch of inputs; exactly one of ``features`` and ``texts`` is set."""

    operation: Operation
    features: npt.NDArray[np.float64] | None = None
    """Numeric rows (2-D), for tabular models."""
    texts: tuple[str, ...] | None = None
    """One string per row, for text models (prompts for generation)."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """JSON values the operation honours (``max_new_tokens``, ``system_prompt``, ...)."""

    def __len__(self) -> int:
        if self.features is not None:
            return int(self.features.shape[0])
        return len(self.texts or ())


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity a token classifier found."""

    label: str
    start: int
    """Character offset where the entity begins in its text."""
    end: int
    """Character offset just after it ends."""


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the model returned for one batch; the fields the operation defines are set, in row order."""

    labels: tuple[str, ...] | None = None
    """CLASSIFY: the predicted label of each row, as text (``"1"`` for an integer class 1)."""
    scores: npt.NDArray[np.float64] | None = None
    """CLASSIFY: probability of each class per row, shape (rows, classes), when the model gives them."""
    classes: tuple[str, ...] | None = None
    """CLASSIFY: the label of each column of ``scores``."""
    values: npt.NDArray[np.float64] | None = None
    """REGRESS: one number per row."""
    embeddings: npt.NDArray[np.float32] | None = None
    """EMBED: shape (rows, dimensions)."""
    texts: tuple[str, ...] | None = None
    """GENERATE: the generated continuation of each prompt (without the prompt)."""
    entities: tuple[tuple[Entity, ...], ...] | None = None
    """TAG: the entities of each row."""


@dataclass(frozen=True, slots=True)
class ModelDescription:
    """What an adapter says about the model it loaded."""

    adapter: str
    """The adapter's name (``sklearn``, ``onnx``, ``transformers``, ``sentence-transformers``, ...)."""
    framework: str
    """The library that runs the model, with its version (``scikit-learn 1.9.1``)."""
    operations: tuple[Operation, ...]
    """What the model can do."""
    classes: tuple[str, ...] = ()
    """Class labels, for classifiers that declare them."""
    parameters: int | None = None
    """Number of weights, where the framework reports it."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """JSON facts worth a reviewer's eye (estimator class, ONNX opset, pipeline task, embedding size)."""


class AdapterError(Exception):
    """The model could not be loaded or could not do what was asked; the message says why."""


def one_value_per_row(output: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """A regressor's output, (rows,) or (rows, 1), as one number per row; several outputs are refused."""
    values = np.asarray(output, dtype=np.float64)
    if values.ndim > 1 and values.shape[1:] != (1,):
        raise AdapterError(f"the regressor returns {values.shape[1:]} outputs per row; one is supported")
    return values.reshape(-1)


class Adapter(Protocol):
    """Loads one kind of model and predicts batches with it."""

    name: ClassVar[str]

    def load(self, root: Path, options: Mapping[str, Any]) -> ModelDescription:
        """Load the model whose files lie under ``root`` (read-only); ``options`` are JSON values."""
        ...

    def predict(self, batch: Batch) -> Prediction:
        """Run one batch; raise :class:`AdapterError` for an operation the model cannot do."""
        ...


def label_text(value: object) -> str:
    """A label as text: the one rule models' labels and the data's labels are compared by. An integral
    float (``1.0``: a file with a missing value elsewhere stores integers so) is ``"1"``, bytes are
    UTF-8, anything else is ``str(value)``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def label_texts(values: npt.ArrayLike) -> tuple[str, ...]:
    """Labels (numbers or text, one per row) as :func:`label_text` writes them.

    Each distinct label is converted once: a batch holds thousands of rows but a handful of classes.
    """
    flat = np.asarray(values).reshape(-1)
    distinct, inverse = np.unique(flat, return_inverse=True)
    texts = np.asarray([label_text(value) for value in distinct.tolist()], dtype=object)
    return tuple(texts[inverse].tolist())


def top_classes(scores: npt.NDArray[np.float64], classes: tuple[str, ...]) -> tuple[str, ...]:
    """The class each row's scores rank first."""
    return tuple(np.asarray(classes, dtype=object)[np.argmax(scores, axis=1)].tolist())
