"""Model adapters: one interface to load a model and predict batches, for each framework steward runs.

File-loading adapters (sklearn, onnx, transformers, sentence-transformers) run inside the sandboxed
worker, whose entry point is ``modelsteward.checks.performance.adapters._serve:handler``; the codec
turns batches, predictions and descriptions into sandbox messages and checks what comes back. The
endpoint adapter talks to an OpenAI-compatible server from the parent process. Importing this package
imports no framework: each adapter imports its own in ``load``.
"""

from modelsteward.checks.performance.adapters._base import (
    Adapter,
    AdapterError,
    Batch,
    Entity,
    ModelDescription,
    Operation,
    Prediction,
    label_text,
)
from modelsteward.checks.performance.adapters._codec import (
    LoadRequest,
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
from modelsteward.checks.performance.adapters._detect import Detection, detect_adapter
from modelsteward.checks.performance.adapters._endpoint import (
    UNPARSED,
    EndpointAdapter,
    EndpointConfig,
    parse_label,
)
from modelsteward.checks.performance.adapters._onnx import OnnxAdapter
from modelsteward.checks.performance.adapters._registry import ADAPTER_NAMES, FILE_ADAPTERS, create_adapter
from modelsteward.checks.performance.adapters._sentence_transformers import SentenceTransformersAdapter
from modelsteward.checks.performance.adapters._sklearn import SklearnAdapter
from modelsteward.checks.performance.adapters._transformers import TransformersAdapter

__all__ = [
    "ADAPTER_NAMES",
    "FILE_ADAPTERS",
    "UNPARSED",
    "Adapter",
    "AdapterError",
    "Batch",
    "Detection",
    "EndpointAdapter",
    "EndpointConfig",
    "Entity",
    "LoadRequest",
    "ModelDescription",
    "OnnxAdapter",
    "Operation",
    "Prediction",
    "SentenceTransformersAdapter",
    "SklearnAdapter",
    "TransformersAdapter",
    "create_adapter",
    "decode_batch",
    "decode_load",
    "decode_prediction",
    "description_from_header",
    "description_to_header",
    "detect_adapter",
    "encode_batch",
    "encode_error",
    "encode_load",
    "encode_prediction",
    "label_text",
    "parse_label",
]
