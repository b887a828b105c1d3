"""The adapters by name: the names ``--adapter`` accepts, and a fresh adapter for each."""

from __future__ import annotations

from collections.abc import Callable

from modelsteward.checks.performance.adapters._base import Adapter, AdapterError
from modelsteward.checks.performance.adapters._endpoint import EndpointAdapter
from modelsteward.checks.performance.adapters._onnx import OnnxAdapter
from modelsteward.checks.performance.adapters._sentence_transformers import SentenceTransformersAdapter
from modelsteward.checks.performance.adapters._sklearn import SklearnAdapter
from modelsteward.checks.performance.adapters._transformers import TransformersAdapter

_FILE_ADAPTERS: dict[str, Callable[[], Adapter]] = {
    adapter.name: adapter
    for adapter in (SklearnAdapter, OnnxAdapter, TransformersAdapter, SentenceTransformersAdapter)
}

FILE_ADAPTERS = tuple(_FILE_ADAPTERS)
"""Adapters that load model files, inside the sandbox."""

ADAPTER_NAMES = (*FILE_ADAPTERS, EndpointAdapter.name)
"""Every adapter name, as ``--adapter`` accepts them."""


def create_adapter(name: str) -> Adapter:
    """A new, unloaded adapter of the file-loading kind ``name``."""
    try:
        return _FILE_ADAPTERS[name]()
    except KeyError:
        hint = " (it serves a URL, not files)" if name == EndpointAdapter.name else ""
        raise AdapterError(
            f"no adapter loads model files as {name!r}{hint}; choose one of {', '.join(FILE_ADAPTERS)}"
        ) from None
