"""An OpenAI-compatible HTTP endpoint (vLLM, Ollama, TGI, ...): chat completions and embeddings.

It runs in the parent process, not the sandbox: it loads no files, and it needs the network the sandbox
removes. It holds no mutable state, so any number of threads may call :meth:`EndpointAdapter.predict`.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from modelsteward.checks.performance.adapters._base import (
    AdapterError,
    Batch,
    ModelDescription,
    Operation,
    Prediction,
)

UNPARSED = "unparsed"
"""The label of a CLASSIFY answer that names none of the labels (or several)."""

_RETRYABLE = frozenset({429, 500, 502, 503, 504})
_MAX_REPLY_BYTES = 64 << 20
_MAX_RETRY_AFTER = 60.0
_ERROR_DETAIL_CHARS = 300
# Wrapping an answer may carry: quotes, markdown emphasis, a final full stop.
_DECORATION = " \t\r\n\"'`*.:"


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """Where the endpoint is and how to talk to it."""

    base_url: str
    """The API root as OpenAI clients take it, ``/v1`` included (``http://localhost:8000/v1``); without
    credentials, as it is shown and recorded."""
    model: str
    """The model name the server serves (the ``model`` field of every request)."""
    api_key_env: str | None = None
    """The environment variable holding the API key, sent as a bearer token; the key is never shown."""
    timeout: float = 60.0
    """Seconds to wait for one reply."""
    retries: int = 3
    """Further attempts after a 429 or 5xx reply."""
    backoff: float = 0.5
    """Seconds before the first retry, doubling after each; a numeric Retry-After header wins."""
    labels: tuple[str, ...] = ()
    """CLASSIFY: the labels the model is asked to answer with."""
    system_prompt: str | None = None
    """Sent before every prompt (before the labelling instruction, for CLASSIFY)."""
    max_new_tokens: int = 256
    temperature: float = 0.0
    """0 asks for the most likely answer (greedy), as the local adapters do."""

    def __post_init__(self) -> None:
        url = urlsplit(self.base_url)
        # Refused rather than stripped: the URL is shown and recorded, and urllib would not send them.
        if url.username is not None or url.password is not None:
            raise AdapterError(
                "endpoint base URL must not hold credentials (user:password@):"
                " pass the API key in an environment variable named by --api-key-env"
            )
        if url.scheme not in ("http", "https") or not url.netloc:
            raise AdapterError(
                f"endpoint base URL must be http:// or https:// with a host (got {self.base_url!r})"
            )
        if not self.model:
            raise AdapterError("endpoint model name must not be empty")
        if not (self.timeout > 0 and self.retries >= 0 and self.backoff >= 0 and self.max_new_tokens >= 1):
            raise AdapterError(
                "endpoint timeout and max_new_tokens must be positive, retries and backoff >= 0"
            )
        if UNPARSED in self.labels or len(set(self.labels)) != len(self.labels) or "" in self.labels:
            raise AdapterError(f"endpoint labels must be distinct, non-empty and not {UNPARSED!r}")


class EndpointAdapter:
    """Generates, classifies (by asking for a label) and embeds through an OpenAI-compatible API."""

    name: ClassVar[str] = "endpoint"

    def __init__(self, config: EndpointConfig) -> None:
        """Read the API key from ``config.api_key_env`` now, so a missing key fails before any request."""
        self._config = config
        self._key = ""
        if config.api_key_env is not None:
            self._key = os.environ.get(config.api_key_env, "")
            if not self._key:
                raise AdapterError(f"the endpoint's API key variable {config.api_key_env} is not set")

    def __repr__(self) -> str:
        return f"EndpointAdapter({self._config.base_url!r}, model={self._config.model!r})"

    def describe(self) -> ModelDescription:
        """What the endpoint offers; it is not contacted."""
        config = self._config
        operations = (Operation.GENERATE, Operation.EMBED) + ((Operation.CLASSIFY,) if config.labels else ())
        return ModelDescription(
            adapter=self.name,
            framework="OpenAI-compatible HTTP API",
            operations=operations,
            classes=config.labels,
            details={"base_url": config.base_url, "model": config.model, "authenticated": bool(self._key)},
        )

    def predict(self, batch: Batch) -> Prediction:
        """Send the batch: one chat completion per text, or one embeddings request for all of them."""
        if batch.texts is None:
            raise AdapterError("the endpoint adapter takes texts, not numeric features")
        texts = list(batch.texts)
        if batch.operation is Operation.EMBED:
            return Prediction(embeddings=self._embed(texts))
        if batch.operation is Operation.GENERATE:
            return Prediction(texts=tuple(self._chat(self._config.system_prompt, text) for text in texts))
        if batch.operation is Operation.CLASSIFY and self._config.labels:
            labels = self._config.labels
            instruction = f"Answer with exactly one of these labels and nothing else: {', '.join(labels)}."
            system = (
                f"{self._config.system_prompt}\n\n{instruction}"
                if self._config.system_prompt
                else instruction
            )
            return Prediction(labels=tuple(parse_label(self._chat(system, text), labels) for text in texts))
        raise AdapterError(
            f"the endpoint cannot {batch.operation} (classifying needs the labels to choose from)"
        )

    def _chat(self, system: str | None, text: str) -> str:
        messages = [{"role": "system", "content": system}] if system else []
        body = {
            "model": self._config.model,
            "messages": [*messages, {"role": "user", "content": text}],
            "max_tokens": self._config.max_new_tokens,
            "temperature": self._config.temperature,
        }
        reply = self._post("chat/completions", body)
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise AdapterError("the chat completion has no choices[0].message.content") from None
        if not isinstance(content, str):
            raise AdapterError("the chat completion's message content is not text")
        return content

    def _embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        body = {"model": self._config.model, "input": texts, "encoding_format": "float"}
        data = self._post("embeddings", body).get("data")
        if not isinstance(data, list) or len(data) != len(texts):
            raise AdapterError(f"the embeddings reply does not hold {len(texts)} items in `data`")
        by_index = {item.get("index"): item.get("embedding") for item in data if isinstance(item, dict)}
        vectors = [by_index.get(index) for index in range(len(texts))]
        if not all(isinstance(vector, list) and vector for vector in vectors):
            raise AdapterError("the embeddings reply lacks an `embedding` list for some input index")
        if len({len(vector) for vector in vectors if vector}) != 1:
            raise AdapterError("the embeddings reply mixes vectors of different lengths")
        try:
            array = np.array(vectors, dtype=np.float32)
        except (TypeError, ValueError):
            raise AdapterError("the embeddings reply holds values that are not numbers") from None
        if not np.isfinite(array).all():
            raise AdapterError("the embeddings reply holds values that are not finite")
        return array

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``base_url/path`` and return the JSON object, retrying 429 and 5xx replies."""
        url = f"{self._config.base_url.rstrip('/')}/{path}"
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        data = json.dumps(body).encode("utf-8")
        attempt = 0
        while True:
            # EndpointConfig admits only http and https URLs.
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=self._config.timeout) as response:  # noqa: S310
                    payload = response.read(_MAX_REPLY_BYTES + 1)
            except urllib.error.HTTPError as error:
                with error:
                    detail = _error_detail(error.read(_MAX_REPLY_BYTES))
                    retry_after = error.headers.get("Retry-After")
                if error.code in _RETRYABLE and attempt < self._config.retries:
                    time.sleep(self._delay(attempt, retry_after))
                    attempt += 1
                    continue
                raise AdapterError(f"{url}: HTTP {error.code} {error.reason}{detail}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                reason = getattr(error, "reason", error)
                raise AdapterError(f"{url}: cannot reach the endpoint: {reason}") from None
            return _json_object(url, payload)

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        try:
            asked = float(retry_after) if retry_after is not None else math.nan
        except ValueError:
            asked = math.nan  # an HTTP date; fall back to our own backoff
        if math.isfinite(asked) and asked >= 0:
            return min(asked, _MAX_RETRY_AFTER)
        return float(self._config.backoff * 2**attempt)


def parse_label(answer: str, labels: tuple[str, ...]) -> str:
    """The label a free-text answer names: exactly (ignoring case and decoration), else the one label it
    mentions as a word; :data:`UNPARSED` when it names none or several."""
    folded = answer.strip(_DECORATION).casefold()
    exact = {label.casefold(): label for label in labels}
    if folded in exact:
        return exact[folded]
    mentioned = [
        label for label in labels if re.search(rf"(?<!\w){re.escape(label.casefold())}(?!\w)", folded)
    ]
    return mentioned[0] if len(mentioned) == 1 else UNPARSED


def _json_object(url: str, payload: bytes) -> dict[str, Any]:
    if len(payload) > _MAX_REPLY_BYTES:
        raise AdapterError(f"{url}: the reply is larger than {_MAX_REPLY_BYTES >> 20} MiB")
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AdapterError(f"{url}: the reply is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise AdapterError(f"{url}: the reply is not a JSON object")
    return document


def _error_detail(payload: bytes) -> str:
    """The server's own error message (OpenAI's ``{"error": {"message": ...}}``), shortened."""
    try:
        message = json.loads(payload)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f": {str(message)[:_ERROR_DETAIL_CHARS]}" if message else ""
