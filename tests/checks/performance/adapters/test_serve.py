"""The worker's handler, called in-process: load, predict, and every failure as a reply."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modelsteward.checks.performance.adapters import (
    AdapterError,
    Batch,
    Operation,
    decode_prediction,
    description_from_header,
    encode_batch,
    encode_load,
)
from modelsteward.checks.performance.adapters._serve import handler
from modelsteward.runtime.sandbox import Message
from tests.checks.performance.adapters.tabular import Fitted, save


def test_load_by_detection_then_predict(iris_classifier: Fitted, tmp_path: Path) -> None:
    save(iris_classifier.model, tmp_path, "iris.skops")
    serve = handler()
    description = description_from_header(serve(encode_load(None, tmp_path, {})).header)
    assert description.adapter == "sklearn"
    assert description.details["file"] == "iris.skops"
    batch = Batch(Operation.CLASSIFY, features=iris_classifier.features)
    prediction = decode_prediction(serve(encode_batch(batch)), batch)
    assert prediction.labels == tuple(
        str(label) for label in iris_classifier.model.predict(iris_classifier.features)
    )


def test_failures_are_replies_and_the_worker_lives_on(iris_classifier: Fitted, tmp_path: Path) -> None:
    save(iris_classifier.model, tmp_path, "iris.pkl")
    serve = handler()
    batch = Batch(Operation.CLASSIFY, features=np.ones((2, 3)))
    with pytest.raises(AdapterError, match="send a load request first"):
        decode_prediction(serve(encode_batch(batch)), batch)
    with pytest.raises(AdapterError, match="serves a URL, not files"):
        description_from_header(serve(encode_load("endpoint", tmp_path, {})).header)
    with pytest.raises(AdapterError, match="unknown request 'train'"):
        description_from_header(serve(Message({"op": "train"})).header)
    assert description_from_header(serve(encode_load("sklearn", tmp_path, {})).header).adapter == "sklearn"
    with pytest.raises(AdapterError, match="already loaded"):
        description_from_header(serve(encode_load("sklearn", tmp_path, {})).header)
    # The pipeline was fitted on 4 features: sklearn's own ValueError comes back as text.
    with pytest.raises(AdapterError, match=r"^ValueError: .*features"):
        decode_prediction(serve(encode_batch(batch)), batch)
    good = Batch(Operation.CLASSIFY, features=iris_classifier.features)
    assert decode_prediction(serve(encode_batch(good)), good).labels is not None
