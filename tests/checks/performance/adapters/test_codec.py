"""Batches, predictions and descriptions survive the trip as messages; hostile replies are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelsteward.checks.performance.adapters import (
    AdapterError,
    Batch,
    Entity,
    ModelDescription,
    Operation,
    Prediction,
    decode_batch,
    decode_load,
    decode_prediction,
    description_from_header,
    description_to_header,
    encode_batch,
    encode_error,
    encode_load,
    encode_prediction,
)
from modelsteward.runtime.sandbox import Message

FEATURES = Batch(Operation.CLASSIFY, features=np.array([[1.0, 2.0], [3.0, 4.0]]))
TEXTS = Batch(Operation.TAG, texts=("Ada Lovelace wrote", "in London"), options={"k": 1})


def test_batches_round_trip() -> None:
    features = decode_batch(encode_batch(FEATURES))
    assert features.operation is Operation.CLASSIFY
    assert features.features is not None
    np.testing.assert_array_equal(features.features, FEATURES.features)
    assert decode_batch(encode_batch(TEXTS)) == TEXTS


def test_load_requests_round_trip() -> None:
    request = decode_load(encode_load(None, Path("/model"), {"file": "a.onnx"}))
    assert (request.adapter, request.root, dict(request.options)) == (
        None,
        Path("/model"),
        {"file": "a.onnx"},
    )
    with pytest.raises(AdapterError, match="`root` must be a path"):
        decode_load(Message({"op": "load", "adapter": "onnx"}))


ROUND_TRIPS = [
    (
        FEATURES,
        Prediction(labels=("a", "b"), scores=np.array([[0.25, 0.75], [1.0, 0.0]]), classes=("a", "b")),
    ),
    (FEATURES, Prediction(labels=("a", "b"))),
    (Batch(Operation.REGRESS, features=FEATURES.features), Prediction(values=np.array([0.5, -2.0]))),
    (Batch(Operation.EMBED, texts=("x", "y")), Prediction(embeddings=np.ones((2, 3), dtype=np.float32))),
    (Batch(Operation.GENERATE, texts=("x", "y")), Prediction(texts=("one", "two"))),
    (TEXTS, Prediction(entities=((Entity("PER", 0, 12),), ()))),
]


@pytest.mark.parametrize(
    ("batch", "prediction"), ROUND_TRIPS, ids=lambda value: getattr(value, "operation", "")
)
def test_predictions_round_trip(batch: Batch, prediction: Prediction) -> None:
    decoded = decode_prediction(encode_prediction(prediction), batch)
    for name in Prediction.__slots__:
        expected, got = getattr(prediction, name), getattr(decoded, name)
        if isinstance(expected, np.ndarray):
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)
        else:
            assert got == expected


def test_descriptions_round_trip() -> None:
    description = ModelDescription(
        "onnx", "onnxruntime 1.32", (Operation.CLASSIFY,), ("0", "1"), 12, {"opsets": {"ai.onnx": 17}}
    )
    assert description_from_header(description_to_header(description)) == description


HOSTILE: list[tuple[Batch, Message, str]] = [
    (FEATURES, Message({"labels": ["a"]}), "has 1 items for a batch of 2 rows"),
    (FEATURES, Message({"labels": ["a", 3]}), "must be a list of strings"),
    (FEATURES, Message({"labels": ["a", "b"], "texts": ["x", "y"]}), r"unexpected \['texts'\]"),
    (FEATURES, Message({"values": [1, 2]}), r"missing \['labels'\]"),
    (FEATURES, Message({"labels": ["a", "b"]}, {"scores": np.ones((2, 2))}), "together"),
    (
        FEATURES,
        Message({"labels": ["a", "b"], "classes": ["a", "b"]}, {"scores": np.ones((2, 3))}),
        r"shape \(2, 3\), expected 2 x 2",
    ),
    (
        FEATURES,
        Message({"labels": ["a", "b"], "classes": ["a", "a"]}, {"scores": np.ones((2, 2))}),
        "repeats a label",
    ),
    (
        Batch(Operation.REGRESS, features=FEATURES.features),
        Message({}, {"values": np.array([1.0, np.nan])}),
        "not finite",
    ),
    (
        Batch(Operation.REGRESS, features=FEATURES.features),
        Message({}, {"values": np.array([1, 2])}),
        "floating-point",
    ),
    (
        Batch(Operation.EMBED, texts=("x",)),
        Message({}, {"embeddings": np.ones((1, 0), np.float32)}),
        "no dimensions",
    ),
    (
        Batch(Operation.EMBED, texts=("x",)),
        Message({}, {"embeddings": np.ones(3, np.float32)}),
        "expected 1 x any",
    ),
    (TEXTS, Message({"entities": [[["PER", 0, 99]], []]}), "outside its text of 18 characters"),
    (TEXTS, Message({"entities": [[["PER", True, 2]], []]}), "outside its text"),
    (TEXTS, Message({"entities": [[{"label": "PER"}], []]}), r"is not \[label, start, end\]"),
    (TEXTS, Message({"entities": [[]]}), "must be a list of 2 rows"),
    (FEATURES, Message({"labels": ["a", "b\x1b[0m"]}), "`labels` holds a label with control characters"),
    (
        FEATURES,
        Message({"labels": ["a", "b"], "classes": ["a", "\x1b"]}, {"scores": np.ones((2, 2))}),
        "`classes` holds a label with control characters",
    ),
    (TEXTS, Message({"entities": [[["PER\n", 0, 3]], []]}), "`entities` holds a label with control"),
]


@pytest.mark.parametrize(("batch", "reply", "message"), HOSTILE)
def test_hostile_replies_are_refused(batch: Batch, reply: Message, message: str) -> None:
    with pytest.raises(AdapterError, match=message):
        decode_prediction(reply, batch)


def test_a_reported_error_is_raised_printable_and_short() -> None:
    with pytest.raises(AdapterError, match=r"^bad\?\[31m thing") as raised:
        decode_prediction(encode_error("bad\x1b[31m thing" + "x" * 5000), FEATURES)
    assert len(str(raised.value)) < 2100
    with pytest.raises(AdapterError, match=r"^cannot load"):
        description_from_header(encode_error("cannot load").header)


def test_description_names_are_made_printable_and_short() -> None:
    header = {"adapter": "onnx\x1b]0;owned\x07", "framework": "\x1b[2J" + "x" * 500, "operations": ["embed"]}
    description = description_from_header(header)
    assert description.adapter == "onnx?]0;owned?"
    assert description.framework.startswith("?[2Jxxx")
    assert description.framework.endswith("...") and len(description.framework) == 203


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"adapter": "onnx", "framework": "x", "operations": []}, "no operations"),
        ({"adapter": "onnx", "framework": "x", "operations": ["fly"]}, "'fly' is not an operation"),
        ({"adapter": "onnx", "framework": "x", "operations": ["embed"], "parameters": True}, "not a count"),
        ({"adapter": 3, "framework": "x", "operations": ["embed"]}, "lacks its adapter"),
        ({"adapter": "onnx", "framework": "x", "operations": ["embed"], "details": []}, "details"),
        (
            {"adapter": "onnx", "framework": "x", "operations": ["classify"], "classes": ["a", "b\x1b[31m"]},
            "`classes` holds a label with control characters: b\\?\\[31m",
        ),
        (
            {"adapter": "onnx", "framework": "x", "operations": ["embed"], "details": {"x": "y" * 70_000}},
            "details exceed 64 KiB",
        ),
    ],
)
def test_hostile_descriptions_are_refused(header: dict[str, Any], message: str) -> None:
    with pytest.raises(AdapterError, match=message):
        description_from_header(header)


def test_bad_predict_requests_are_refused() -> None:
    with pytest.raises(AdapterError, match="exactly one of `features` and `texts`"):
        decode_batch(Message({"operation": "embed"}))
    with pytest.raises(AdapterError, match="must be 2-D and numeric"):
        decode_batch(Message({"operation": "regress"}, {"features": np.ones(3)}))
