"""End to end: every malicious sample of the generated corpus is flagged, no benign one is.

The corpus is built once per session; each sample is scanned on its own through the public API,
and after every scan the canary its payload would create must still be absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from modelsteward.checks.security import FileReport, ScanOptions, scan
from modelsteward.core import Severity
from tests.corpus import Recipe, Sample, build, recipes
from tests.corpus.files import torch_zip_with


@dataclass(frozen=True, slots=True)
class Corpus:
    samples: dict[str, Sample]
    canary: Path


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    canary = tmp_path_factory.mktemp("canary") / "fired"
    return Corpus(samples=build(tmp_path_factory.mktemp("corpus"), canary), canary=canary)


def _ids(selected: tuple[Recipe, ...]) -> list[str]:
    return [recipe.name for recipe in selected]


def _scan(path: Path) -> tuple[FileReport, ...]:
    return scan([path], ScanOptions()).files


def _describe(reports: tuple[FileReport, ...]) -> str:
    lines = [f"{r.path} [{r.format}, {r.status}]" for r in reports]
    lines += [f"  {f.severity.label} {f.rule} {f.location}: {f.message}" for r in reports for f in r.findings]
    lines += [f"  incomplete: {reason}" for r in reports for reason in r.incomplete]
    return "\n".join(lines)


MALICIOUS = recipes("malicious")
BENIGN = recipes("benign")


@pytest.mark.parametrize("recipe", MALICIOUS, ids=_ids(MALICIOUS))
def test_malicious_sample_is_flagged_high(corpus: Corpus, recipe: Recipe) -> None:
    reports = _scan(corpus.samples[recipe.name].path)
    worst = max((f.severity for r in reports for f in r.findings), default=None)
    assert worst is not None and worst >= Severity.HIGH, f"{recipe.technique}\n{_describe(reports)}"
    assert not corpus.canary.exists()


# Samples whose danger is a resource limit, not a payload: the limit's own rule must say so.
LIMIT_RULES = {"deflate_bomb.zip": "ARCHIVE-BOMB", "nesting_too_deep.zip": "NESTING-TOO-DEEP"}


@pytest.mark.parametrize(("name", "rule"), LIMIT_RULES.items())
def test_limit_samples_report_their_limit(corpus: Corpus, name: str, rule: str) -> None:
    reports = _scan(corpus.samples[name].path)
    assert any(f.rule == rule and f.severity >= Severity.HIGH for r in reports for f in r.findings), (
        _describe(reports)
    )
    assert all(r.status == "incomplete" for r in reports)


@pytest.mark.parametrize("recipe", BENIGN, ids=_ids(BENIGN))
def test_benign_sample_is_not_flagged(corpus: Corpus, recipe: Recipe) -> None:
    reports = _scan(corpus.samples[recipe.name].path)
    loud = [f for r in reports for f in r.findings if f.severity >= Severity.MEDIUM]
    assert not loud, f"{recipe.technique}\n{_describe(reports)}"


@pytest.mark.parametrize("recipe", BENIGN, ids=_ids(BENIGN))
def test_benign_sample_is_scanned_completely(corpus: Corpus, recipe: Recipe) -> None:
    reports = _scan(corpus.samples[recipe.name].path)
    assert reports and all(r.status == "scanned" for r in reports), (
        f"{recipe.technique}\n{_describe(reports)}"
    )


# Benign samples of every structured binary format, to be damaged; JSON too, since a template that
# cannot be parsed cannot be judged.
DAMAGEABLE = (
    "torch_state_dict.pt",
    "torch_legacy_state_dict.pt",
    "sklearn_logistic_regression.pkl",
    "sklearn_random_forest.gzip.joblib",
    "sklearn_random_forest.xz.joblib",
    "numpy_float.npy",
    "numpy_arrays.npz",
    "model.safetensors",
    "gguf_llama3.gguf",
    "keras_dense.keras",
    "keras_dense.h5",
    "tokenizer_config_llama3.json",
)


@pytest.mark.parametrize("name", DAMAGEABLE)
@pytest.mark.parametrize("keep", ["half", "all-but-last-byte"])
def test_truncated_file_is_incomplete(corpus: Corpus, tmp_path: Path, name: str, keep: str) -> None:
    data = corpus.samples[name].path.read_bytes()
    damaged = tmp_path / name
    damaged.write_bytes(data[: len(data) // 2] if keep == "half" else data[:-1])
    reports = _scan(damaged)
    assert [r.status for r in reports] == ["incomplete"], _describe(reports)


@pytest.mark.parametrize(
    "data_pkl",
    [b"\x80\x02}q\x00\xff\xff", b"\x80\x02}q\x00(X\x01\x00\x00\x00w"],
    ids=["unknown-opcode", "truncated-stream"],
)
def test_torch_zip_with_corrupt_pickle_is_incomplete(tmp_path: Path, data_pkl: bytes) -> None:
    damaged = tmp_path / "pytorch_model.bin"
    damaged.write_bytes(torch_zip_with(data_pkl))
    reports = _scan(damaged)
    assert [r.status for r in reports] == ["incomplete"], _describe(reports)


def test_corpus_covers_both_labels_and_names_are_unique(corpus: Corpus) -> None:
    assert len(MALICIOUS) >= 85 and len(BENIGN) >= 40
    assert len(corpus.samples) == len(MALICIOUS) + len(BENIGN)
    assert all(sample.path.exists() for sample in corpus.samples.values())
