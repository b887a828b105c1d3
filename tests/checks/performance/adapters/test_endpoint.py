"""The endpoint adapter against a local server speaking the OpenAI API."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from modelsteward.checks.performance.adapters import (
    UNPARSED,
    AdapterError,
    Batch,
    EndpointAdapter,
    EndpointConfig,
    Operation,
    parse_label,
)
from tests.checks.performance.adapters.openai_server import Messages, OpenAIServer, serving

KEY = "sk-test-secret"


def _reply(messages: Messages) -> str:
    text = messages[-1]["content"]
    if text.startswith("review:"):
        return {"review: loved it": "Positive.", "review: hated it": "**negative**"}.get(
            text, "I cannot say."
        )
    return f"echo: {text}"


def _embed(text: str) -> list[float]:
    return [float(len(text)), float(text.count("a")), 1.0]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    monkeypatch.setenv("STEWARD_TEST_KEY", KEY)
    with serving(OpenAIServer(_reply, _embed, api_key=KEY)) as running:
        yield running


def _adapter(server: OpenAIServer, **settings: Any) -> EndpointAdapter:
    config = EndpointConfig(
        server.base_url, "test-model", api_key_env="STEWARD_TEST_KEY", backoff=0.0, **settings
    )
    return EndpointAdapter(config)


def test_generation_sends_chat_completions_in_the_api_shape(server: OpenAIServer) -> None:
    adapter = _adapter(server, system_prompt="Be brief.", max_new_tokens=16)
    prediction = adapter.predict(Batch(Operation.GENERATE, texts=("hello", "world")))
    assert prediction.texts == ("echo: hello", "echo: world")
    path, body = server.requests[0]
    assert path == "/v1/chat/completions"
    assert body == {
        "model": "test-model",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}],
        "max_tokens": 16,
        "temperature": 0.0,
    }


def test_classification_maps_answers_to_labels(server: OpenAIServer) -> None:
    adapter = _adapter(server, labels=("positive", "negative"))
    texts = ("review: loved it", "review: hated it", "review: meh")
    prediction = adapter.predict(Batch(Operation.CLASSIFY, texts=texts))
    assert prediction.labels == ("positive", "negative", UNPARSED)
    system = server.requests[0][1]["messages"][0]
    assert system["role"] == "system"
    assert "positive, negative" in system["content"]
    assert adapter.describe().classes == ("positive", "negative")
    assert Operation.CLASSIFY in adapter.describe().operations


def test_embeddings_are_read_by_index(server: OpenAIServer) -> None:
    prediction = _adapter(server).predict(Batch(Operation.EMBED, texts=("a", "banana", "xyz")))
    assert prediction.embeddings is not None
    assert prediction.embeddings.dtype == np.float32
    np.testing.assert_array_equal(prediction.embeddings, [[1, 1, 1], [6, 3, 1], [3, 0, 1]])
    path, body = server.requests[0]
    assert path == "/v1/embeddings"
    assert body == {"model": "test-model", "input": ["a", "banana", "xyz"], "encoding_format": "float"}


def test_429_and_5xx_are_retried_until_success(server: OpenAIServer) -> None:
    server.failures.extend([429, 503])
    prediction = _adapter(server, retries=2).predict(Batch(Operation.GENERATE, texts=("hi",)))
    assert prediction.texts == ("echo: hi",)
    assert server.failures == []


def test_retries_run_out_with_the_servers_message(server: OpenAIServer) -> None:
    server.failures.extend([429, 429])
    with pytest.raises(AdapterError, match="HTTP 429 Too Many Requests: Rate limit reached"):
        _adapter(server, retries=1).predict(Batch(Operation.GENERATE, texts=("hi",)))


def test_a_wrong_key_is_refused_and_never_shown(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_TEST_KEY", "sk-wrong")
    adapter = _adapter(server)
    with pytest.raises(AdapterError, match="HTTP 401") as raised:
        adapter.predict(Batch(Operation.GENERATE, texts=("hi",)))
    assert "sk-wrong" not in str(raised.value)
    assert "sk-wrong" not in repr(adapter)
    assert "sk-wrong" not in str(adapter.describe())
    monkeypatch.delenv("STEWARD_TEST_KEY")
    with pytest.raises(AdapterError, match="STEWARD_TEST_KEY is not set"):
        _adapter(server)


def test_concurrent_callers_each_get_their_own_answer(server: OpenAIServer) -> None:
    adapter = _adapter(server)
    texts = [f"prompt {index}" for index in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda text: adapter.predict(Batch(Operation.GENERATE, texts=(text,))), texts)
        )
    assert [result.texts for result in results] == [(f"echo: {text}",) for text in texts]


def test_unreachable_servers_bad_configs_and_impossible_operations() -> None:
    adapter = EndpointAdapter(EndpointConfig("http://127.0.0.1:9/v1", "m", timeout=2.0))
    with pytest.raises(AdapterError, match="cannot reach the endpoint"):
        adapter.predict(Batch(Operation.GENERATE, texts=("hi",)))
    with pytest.raises(AdapterError, match="classifying needs the labels"):
        adapter.predict(Batch(Operation.CLASSIFY, texts=("hi",)))
    with pytest.raises(AdapterError, match="http:// or https://"):
        EndpointConfig("file:///etc/passwd", "m")
    with pytest.raises(AdapterError, match="not 'unparsed'"):
        EndpointConfig("http://localhost/v1", "m", labels=("yes", UNPARSED))


@pytest.mark.parametrize("url", ["http://user:hunter2@localhost/v1", "https://hunter2@localhost/v1"])
def test_a_base_url_with_credentials_is_refused_without_showing_them(url: str) -> None:
    with pytest.raises(AdapterError, match="--api-key-env") as refused:
        EndpointConfig(url, "m")
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        ("yes", "yes"),
        ("  'No'. ", "no"),
        ("The answer is yes.", "yes"),
        ("yes and no", UNPARSED),
        ("maybe", UNPARSED),
        ("yesterday", UNPARSED),
    ],
)
def test_parse_label(answer: str, label: str) -> None:
    assert parse_label(answer, ("yes", "no")) == label
