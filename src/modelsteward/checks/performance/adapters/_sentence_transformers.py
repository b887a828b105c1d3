"""sentence-transformers models: texts to embedding vectors."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from modelsteward.checks.performance.adapters._base import (
    AdapterError,
    Batch,
    ModelDescription,
    Operation,
    Prediction,
)
from modelsteward.checks.performance.adapters._hub import stay_offline
from modelsteward.checks.performance.adapters._options import Options


class SentenceTransformersAdapter:
    """Embeds texts with a sentence-transformers model directory, on the CPU."""

    name: ClassVar[str] = "sentence-transformers"
    _OPTIONS: ClassVar[frozenset[str]] = frozenset(
        {"normalize", "batch_size", "threads", "trust_remote_code"}
    )

    def __init__(self) -> None:
        self._model: Any = None
        self._normalize = False
        self._batch_size = 32

    def load(self, root: Path, options: Mapping[str, Any]) -> ModelDescription:
        """Load the model.

        Options: ``normalize`` (scale every vector to unit length, default false: the model's own modules
        decide); ``batch_size`` (default 32); ``threads``; ``trust_remote_code`` (default false).
        """
        stay_offline()
        import sentence_transformers  # noqa: PLC0415 - heavy; only for embedding models
        import torch  # noqa: PLC0415

        read = Options.read(self.name, options, self._OPTIONS)
        self._normalize = read.boolean("normalize", False)
        self._batch_size = read.integer("batch_size", 32)
        if "threads" in read.values:
            torch.set_num_threads(read.integer("threads", 1))
        try:
            model = sentence_transformers.SentenceTransformer(
                str(root),
                device="cpu",
                local_files_only=True,
                trust_remote_code=read.boolean("trust_remote_code", False),
            )
        except (OSError, ValueError, KeyError) as error:
            raise AdapterError(f"sentence-transformers cannot load {root}: {error}") from None
        self._model = model
        return ModelDescription(
            adapter=self.name,
            framework=f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}",
            operations=(Operation.EMBED,),
            parameters=sum(int(weights.numel()) for weights in model.parameters()),
            details={
                "dimension": model.get_embedding_dimension(),
                "max_seq_length": model.max_seq_length,
                "modules": [type(module).__name__ for module in model],
                "normalize": self._normalize,
            },
        )

    def predict(self, batch: Batch) -> Prediction:
        """Embed the batch's texts."""
        if self._model is None:
            raise AdapterError("no model is loaded")
        if batch.operation is not Operation.EMBED:
            raise AdapterError(f"an embedding model can embed, not {batch.operation}")
        if batch.texts is None:
            raise AdapterError("the sentence-transformers adapter takes texts, not numeric features")
        vectors = self._model.encode(
            list(batch.texts),
            batch_size=self._batch_size,
            normalize_embeddings=self._normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return Prediction(embeddings=np.asarray(vectors, dtype=np.float32).reshape(len(batch), -1))
