"""The onnx adapter on skl2onnx conversions of real estimators: it must agree with scikit-learn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from skl2onnx import to_onnx

from modelsteward.checks.performance.adapters import AdapterError, Batch, OnnxAdapter, Operation
from tests.checks.performance.adapters.tabular import Fitted


def _convert(fitted: Fitted, path: Path, **options: Any) -> Path:
    model = to_onnx(fitted.model, fitted.features[:1].astype(np.float32), target_opset=17, **options)
    path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.parametrize("zipmap", [True, False], ids=["zipmap", "tensor"])
def test_a_converted_classifier_agrees_with_sklearn(
    zipmap: bool, iris_classifier: Fitted, tmp_path: Path
) -> None:
    options = {} if zipmap else {"options": {"zipmap": False}}
    _convert(iris_classifier, tmp_path / "iris.onnx", **options)
    adapter = OnnxAdapter()
    description = adapter.load(tmp_path, {"threads": 1})
    prediction = adapter.predict(Batch(Operation.CLASSIFY, features=iris_classifier.features))
    assert description.operations == (Operation.CLASSIFY,)
    assert description.classes == ("0", "1", "2")
    assert description.details["opsets"]["ai.onnx"] <= 17
    assert [i["name"] for i in description.details["inputs"]] == ["X"]
    assert prediction.classes == ("0", "1", "2")
    assert prediction.labels == tuple(
        str(label) for label in iris_classifier.model.predict(iris_classifier.features)
    )
    assert prediction.scores is not None
    expected = iris_classifier.model.predict_proba(iris_classifier.features)
    np.testing.assert_allclose(prediction.scores, expected, atol=1e-5)


def test_a_converted_regressor_agrees_with_sklearn(diabetes_regressor: Fitted, tmp_path: Path) -> None:
    _convert(diabetes_regressor, tmp_path / "diabetes.onnx")
    adapter = OnnxAdapter()
    assert adapter.load(tmp_path, {}).operations == (Operation.REGRESS,)
    prediction = adapter.predict(Batch(Operation.REGRESS, features=diabetes_regressor.features))
    assert prediction.values is not None
    assert prediction.values.shape == (len(diabetes_regressor.features),)
    expected = diabetes_regressor.model.predict(diabetes_regressor.features)
    np.testing.assert_allclose(prediction.values, expected, rtol=1e-4)


def _logits_model(path: Path) -> Path:
    """A graph with one logits output: X (rows, 2) times a fixed matrix to (rows, 3) scores."""
    weights = helper.make_tensor("W", TensorProto.FLOAT, [2, 3], [1, 0, -1, 0, 1, -1])
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["logits"])],
        "logits",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, 3])],
        [weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_a_single_logits_output_is_softmaxed_and_labelled_by_option(tmp_path: Path) -> None:
    _logits_model(tmp_path / "net.onnx")
    adapter = OnnxAdapter()
    description = adapter.load(tmp_path, {"classes": ["cat", "dog", "bird"]})
    prediction = adapter.predict(
        Batch(Operation.CLASSIFY, features=np.array([[3.0, 0.0], [0.0, 3.0], [-2.0, -2.0]]))
    )
    assert description.classes == ("cat", "dog", "bird")
    assert prediction.labels == ("cat", "dog", "bird")
    assert prediction.scores is not None
    np.testing.assert_allclose(prediction.scores.sum(axis=1), 1.0)
    assert prediction.scores[0, 0] > 0.9


def test_wrong_input_and_unreadable_files_are_clear_errors(iris_classifier: Fitted, tmp_path: Path) -> None:
    _convert(iris_classifier, tmp_path / "iris.onnx")
    adapter = OnnxAdapter()
    adapter.load(tmp_path, {})
    with pytest.raises(AdapterError, match="takes numeric features, not texts"):
        adapter.predict(Batch(Operation.CLASSIFY, texts=("a",)))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.onnx").write_bytes(b"not a protobuf")
    with pytest.raises(AdapterError, match=r"ONNX Runtime cannot load model\.onnx"):
        OnnxAdapter().load(broken, {})
    with pytest.raises(AdapterError, match="option 'threads' must be an integer >= 1"):
        OnnxAdapter().load(tmp_path, {"threads": 0})


def test_text_classes_of_a_plain_operator_classifier_come_from_its_label_lookup(tmp_path: Path) -> None:
    # skl2onnx turns a logistic regression into MatMul/ArgMax and looks the label up in a constant.
    from sklearn.linear_model import LogisticRegression

    features = np.random.default_rng(0).normal(size=(60, 3))
    labels = np.where(features[:, 0] > 0, "high", "low")
    model = LogisticRegression().fit(features, labels)
    exported = to_onnx(model, features[:1], options={"zipmap": False})
    (tmp_path / "model.onnx").write_bytes(exported.SerializeToString())
    adapter = OnnxAdapter()
    assert adapter.load(tmp_path, {}).classes == ("high", "low")
    prediction = adapter.predict(Batch(Operation.CLASSIFY, features=features))
    assert prediction.classes == ("high", "low")
    assert prediction.labels == tuple(model.predict(features))
