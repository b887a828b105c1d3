"""ONNX models on ONNX Runtime's CPU provider: skl2onnx classifiers and regressors, plain score outputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from modelsteward.checks.performance.adapters._base import (
    AdapterError,
    Batch,
    ModelDescription,
    Operation,
    Prediction,
    label_text,
    label_texts,
    one_value_per_row,
    top_classes,
)
from modelsteward.checks.performance.adapters._detect import model_file
from modelsteward.checks.performance.adapters._options import Options

# ONNX tensor element types a feature matrix can be fed as.
_INPUT_DTYPES: dict[str, type[np.generic]] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
}
# Attributes of ai.onnx.ml nodes that list a classifier's labels in the order of its probability columns.
_CLASS_ATTRIBUTES = ("classlabels_strings", "classlabels_int64s", "classlabels_ints")
_RESHAPING = frozenset({"Reshape", "Cast", "Identity", "Squeeze", "Unsqueeze", "Flatten"})


@dataclass(frozen=True, slots=True)
class _Outputs:
    """Which session outputs carry what."""

    label: str | None
    """The predicted label per row (skl2onnx's ``label``)."""
    scores: str | None
    """Per-class scores: a (rows, classes) tensor, or ZipMap's list of {class: probability}."""


class OnnxAdapter:
    """Runs an ONNX graph that takes one feature matrix and classifies or regresses its rows."""

    name: ClassVar[str] = "onnx"
    _OPTIONS: ClassVar[frozenset[str]] = frozenset({"file", "threads", "task", "classes"})

    def __init__(self) -> None:
        self._session: Any = None
        self._input = ""
        self._input_dtype: type[np.generic] = np.float32
        self._outputs = _Outputs(None, None)
        self._classes: tuple[str, ...] = ()
        self._operation = Operation.CLASSIFY

    def load(self, root: Path, options: Mapping[str, Any]) -> ModelDescription:
        """Open an inference session.

        Options: ``file``; ``threads`` (intra-op threads, default 1); ``task`` (``classify`` or
        ``regress``, when the outputs do not say); ``classes`` (labels of the score columns, when the
        graph does not list them).
        """
        import onnx  # noqa: PLC0415 - heavy; only for ONNX models
        import onnxruntime  # noqa: PLC0415

        read = Options.read(self.name, options, self._OPTIONS)
        path = model_file(root, read.text("file"), (".onnx",), self.name)
        settings = onnxruntime.SessionOptions()
        settings.intra_op_num_threads = read.integer("threads", 1)
        settings.inter_op_num_threads = 1
        try:
            session = onnxruntime.InferenceSession(path, settings, providers=["CPUExecutionProvider"])
            graph = onnx.load(path, load_external_data=False)
        except Exception as error:  # noqa: BLE001 - ONNX Runtime raises its own untyped failures
            raise AdapterError(f"ONNX Runtime cannot load {path.name}: {error}") from None
        inputs = session.get_inputs()
        if len(inputs) != 1 or inputs[0].type not in _INPUT_DTYPES:
            shown = ", ".join(f"{i.name}: {i.type}" for i in inputs)
            raise AdapterError(
                f"{path.name} takes {shown}; one float, double or int64 feature tensor is supported"
            )
        self._input, self._input_dtype = inputs[0].name, _INPUT_DTYPES[inputs[0].type]
        self._outputs = _pick_outputs(session.get_outputs())
        self._operation = _operation(read.text("task"), self._outputs, session.get_outputs())
        self._classes = read.texts("classes") or _graph_classes(graph, self._outputs.label)
        self._session = session
        return ModelDescription(
            adapter=self.name,
            framework=f"onnxruntime {onnxruntime.__version__}",
            operations=(self._operation,),
            classes=self._classes if self._operation is Operation.CLASSIFY else (),
            details={
                "file": path.name,
                "opsets": {entry.domain or "ai.onnx": int(entry.version) for entry in graph.opset_import},
                "producer": f"{graph.producer_name} {graph.producer_version}".strip(),
                "inputs": [{"name": i.name, "type": i.type, "shape": _shape(i.shape)} for i in inputs],
                "outputs": [
                    {"name": o.name, "type": o.type, "shape": _shape(o.shape)} for o in session.get_outputs()
                ],
            },
        )

    def predict(self, batch: Batch) -> Prediction:
        """Run the graph on the batch's features."""
        if self._session is None:
            raise AdapterError("no model is loaded")
        if batch.operation is not self._operation:
            raise AdapterError(f"this model can {self._operation}, not {batch.operation}")
        if batch.features is None:
            raise AdapterError("the onnx adapter takes numeric features, not texts")
        names = [name for name in (self._outputs.label, self._outputs.scores) if name is not None]
        results = dict(
            zip(
                names,
                self._session.run(names, {self._input: batch.features.astype(self._input_dtype, copy=False)}),
                strict=True,
            )
        )
        if self._operation is Operation.REGRESS:
            assert self._outputs.scores is not None  # noqa: S101 - _operation requires it
            return Prediction(values=one_value_per_row(results[self._outputs.scores]))
        return self._classify(results, len(batch))

    def _classify(self, results: Mapping[str, Any], rows: int) -> Prediction:
        classes = self._classes
        scores: npt.NDArray[np.float64] | None = None
        if self._outputs.scores is not None:
            raw = results[self._outputs.scores]
            if isinstance(raw, list):  # ZipMap: one {class: probability} per row, classes in column order
                classes = tuple(str(key) for key in raw[0]) if raw else classes
                scores = np.array([list(row.values()) for row in raw], dtype=np.float64).reshape(rows, -1)
            else:
                scores = _probabilities(np.asarray(raw, dtype=np.float64).reshape(rows, -1))
            if not classes:
                classes = tuple(str(index) for index in range(scores.shape[1]))
            if len(classes) != scores.shape[1]:
                raise AdapterError(
                    f"the model gives {scores.shape[1]} scores per row for {len(classes)} classes"
                )
        if self._outputs.label is not None:
            labels = label_texts(results[self._outputs.label])
        else:
            assert scores is not None  # noqa: S101 - _pick_outputs gives a label or scores
            labels = top_classes(scores, classes)
        return Prediction(labels=labels, scores=scores, classes=classes if scores is not None else None)


def _pick_outputs(outputs: Sequence[Any]) -> _Outputs:
    """Find the label and score outputs: skl2onnx names them ``label`` and ``probabilities``."""
    if len(outputs) == 1:
        return _Outputs(None, outputs[0].name)
    label = next((o.name for o in outputs if o.type in ("tensor(int64)", "tensor(string)")), None)
    scores = next(
        (o.name for o in outputs if o.type.startswith(("seq(map", "tensor(float", "tensor(double"))), None
    )
    if label is None and scores is None:
        shown = ", ".join(f"{o.name}: {o.type}" for o in outputs)
        raise AdapterError(f"no label or score output among {shown}")
    return _Outputs(label, scores)


def _operation(task: str | None, outputs: _Outputs, declared: Sequence[Any]) -> Operation:
    """CLASSIFY or REGRESS: from the ``task`` option, else a label output or several columns mean CLASSIFY."""
    if task is not None:
        if task not in (Operation.CLASSIFY, Operation.REGRESS):
            raise AdapterError(f"onnx option 'task' must be classify or regress (got {task!r})")
        operation = Operation(task)
        if operation is Operation.REGRESS and outputs.scores is None:
            raise AdapterError("the model has no numeric output to regress with")
        return operation
    if outputs.label is not None or declared[0].type.startswith("seq(map"):
        return Operation.CLASSIFY
    shape = declared[0].shape
    columns = shape[-1] if len(shape) == 2 else 1
    return Operation.CLASSIFY if isinstance(columns, int) and columns > 1 else Operation.REGRESS


def _probabilities(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Scores as probabilities: kept if each row already is a distribution, else a softmax of logits."""
    # min() and a max of the sums' distance from 1: cheaper than allclose on every batch.
    if scores.min() >= 0 and float(np.abs(scores.sum(axis=1) - 1.0).max()) <= 1e-4:
        return scores
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    probabilities: npt.NDArray[np.float64] = shifted / shifted.sum(axis=1, keepdims=True)
    return probabilities


def _graph_classes(graph: Any, label: str | None) -> tuple[str, ...]:
    """Class labels in probability-column order: as a classifier node lists them (ai.onnx.ml), or as
    the constant the ``label`` output is looked up in (skl2onnx's plain-operator classifiers pick the
    label with ``ArrayFeatureExtractor(classes, argmax)``)."""
    for node in graph.graph.node:
        for attribute in node.attribute:
            if attribute.name in _CLASS_ATTRIBUTES:
                values = attribute.strings or attribute.ints
                return tuple(label_text(v) for v in values)
    return _looked_up_classes(graph, label) if label is not None else ()


def _looked_up_classes(graph: Any, label: str) -> tuple[str, ...]:
    from onnx import numpy_helper  # noqa: PLC0415 - loaded with onnx already

    producers = {output: node for node in graph.graph.node for output in node.output}
    constants = {tensor.name: tensor for tensor in graph.graph.initializer}
    name = label
    # Walk back through the operators that only reshape or convert the label.
    for _ in range(len(producers)):
        node = producers.get(name)
        if node is None:
            return ()
        if node.op_type == "ArrayFeatureExtractor" and node.input[0] in constants:
            values = numpy_helper.to_array(constants[node.input[0]]).reshape(-1).tolist()
            return tuple(label_text(v) for v in values)
        if node.op_type not in _RESHAPING or not node.input:
            return ()
        name = node.input[0]
    return ()


def _shape(shape: Sequence[Any]) -> list[int | str | None]:
    return [dimension if isinstance(dimension, int | str) else None for dimension in shape]
