"""compare: changed, missing and extra files between a registered manifest and a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsteward.checks.integrity import ManifestDiff, compare
from modelsteward.store import hash_tree
from tests.checks.integrity.conftest import SHARD, model_files, tamper


def test_the_same_files_compare_clean(model: Path) -> None:
    manifest = hash_tree(model, model_files(model), shard_size=SHARD)
    diff = compare(manifest, hash_tree(model, model_files(model), jobs=1, shard_size=SHARD))
    assert diff == ManifestDiff()
    assert diff.clean
    assert diff.describe() == "no differences"


def test_changed_missing_and_extra_files_are_told_apart(model: Path) -> None:
    expected = hash_tree(model, model_files(model), shard_size=SHARD)
    tamper(
        model, ["change:model.safetensors", "change:config.json", "remove:tokenizer/vocab.txt", "add:evil.py"]
    )
    diff = compare(expected, hash_tree(model, model_files(model), shard_size=SHARD))
    assert diff == ManifestDiff(
        changed=("config.json", "model.safetensors"), missing=("tokenizer/vocab.txt",), extra=("evil.py",)
    )
    assert not diff.clean
    assert diff.describe() == (
        "changed: config.json, model.safetensors; missing: tokenizer/vocab.txt; extra: evil.py"
    )


def test_a_file_of_another_size_is_changed(model: Path) -> None:
    expected = hash_tree(model, model_files(model), shard_size=SHARD)
    with (model / "model.safetensors").open("ab") as handle:
        handle.write(b"\0")
    diff = compare(expected, hash_tree(model, model_files(model), shard_size=SHARD))
    assert diff.changed == ("model.safetensors",)


def test_long_lists_are_shortened() -> None:
    diff = ManifestDiff(extra=tuple(f"f{i}" for i in range(8)))
    assert diff.describe() == "extra: f0, f1, f2, f3, f4 and 3 more"


def test_manifests_of_different_shard_sizes_are_not_compared(model: Path) -> None:
    with pytest.raises(ValueError, match=r"different shard sizes \(4096 and 8192 bytes\)"):
        compare(
            hash_tree(model, model_files(model), shard_size=SHARD),
            hash_tree(model, model_files(model), shard_size=2 * SHARD),
        )
