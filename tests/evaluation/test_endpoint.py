"""A model already served elsewhere, evaluated through its OpenAI-compatible API, next to a local one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.checks.performance.adapters.openai_server import Messages, OpenAIServer, serving
from tests.conftest import Steward

REVIEWS = [
    ("a wonderful, moving film", "positive"),
    ("dull and far too long", "negative"),
    ("she loved every minute of it", "positive"),
    ("he hated the ending", "negative"),
] * 10


def _sentiment(messages: Messages) -> str:
    # A keyword classifier standing in for a served LLM: it answers in words, as chat models do.
    text = messages[-1]["content"].lower()
    return "Negative." if any(word in text for word in ("dull", "hated")) else "The answer is positive"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMENT_KEY", "sk-local")


def test_an_endpoint_is_evaluated_on_labels_from_the_data(steward: Steward, tmp_path: Path) -> None:
    data = tmp_path / "reviews.csv"
    data.write_text("review,sentiment\n" + "".join(f'"{t}",{s}\n' for t, s in REVIEWS), encoding="utf-8")
    with serving(OpenAIServer(_sentiment, lambda text: [1.0, 0.0], api_key="sk-local")) as server:
        result = steward(
            "evaluate",
            server.base_url,
            "--endpoint-model",
            "sentiment-llm",
            "--api-key-env",
            "SENTIMENT_KEY",
            "--data",
            str(data),
            "--task",
            "classification",
            "--columns",
            "text=review,label=sentiment",
            "--concurrency",
            "1,4",
            "--batch-sizes",
            "4",
            "--resamples",
            "100",
            "--json",
        )
        asked = [body for path, body in server.requests if path == "/v1/chat/completions"]
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["isolation"] == "endpoint"
    assert document["model"]["adapter"] == "endpoint"
    assert document["metrics"]["accuracy"]["value"] == 1.0
    assert [p["concurrency"] for p in document["efficiency"]["scaling"]] == [1, 4]
    # The labels the model was asked to choose from are the data's own.
    assert all(body["model"] == "sentiment-llm" for body in asked)
    assert "negative" in json.dumps(asked[0]["messages"]) and "positive" in json.dumps(asked[0]["messages"])
    # Pronoun swaps ("she" <-> "he") never change this classifier's answer.
    pronouns = next(f for f in document["fairness"]["counterfactual"] if f["family"] == "pronouns")
    assert pronouns["pairs"] == 20
    assert pronouns["flip_rate"] == 0.0
    assert "sk-local" not in result.stdout + result.stderr


def test_an_endpoint_needs_its_model_name(steward: Steward, tmp_path: Path) -> None:
    data = tmp_path / "reviews.csv"
    data.write_text("review,sentiment\ngood,positive\n", encoding="utf-8")
    result = steward(
        "evaluate",
        "http://127.0.0.1:9/v1",
        "--data",
        str(data),
        "--task",
        "classification",
        "--columns",
        "text=review,label=sentiment",
    )
    assert result.exit_code == 2
    assert "--endpoint-model" in result.stderr
