"""``steward admit`` and ``steward verify`` through the command line: exit codes, JSON and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Steward
from tests.gate.test_admit import model_folder

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def _workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command runs in a fresh workspace (SQLite)."""
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STEWARD_DATABASE_URL", raising=False)


def admit_json(steward: Steward, *args: str) -> tuple[int, dict[str, object]]:
    result = steward("admit", *args, "--json", "--quiet")
    return result.exit_code, json.loads(result.stdout)


def test_each_verdict_has_its_exit_status(steward: Steward, canary: Path) -> None:
    policy = str(EXAMPLES / "policy.yaml")
    rejected = steward(
        "admit", str(EXAMPLES / "models" / "malicious-pickle"), "--name", "bad", "--policy", policy
    )
    review = steward("admit", str(EXAMPLES / "models" / "noncommercial"), "--name", "nc", "--policy", policy)
    assert rejected.exit_code == 1, rejected
    assert rejected.stdout.startswith("REJECT  bad@1")
    assert "PICKLE-GLOBAL-DENIED" in rejected.stdout
    assert review.exit_code == 3, review
    assert "license.review" in review.stdout
    assert not canary.exists()


def test_json_holds_the_whole_assessment(steward: Steward, tmp_path: Path) -> None:
    code, document = admit_json(steward, str(model_folder(tmp_path / "m")), "--name", "tiny")
    assert code == 0
    assert document["name"] == "tiny" and document["version"] == 1 and document["new_version"] is True
    decision = document["decision"]
    assert isinstance(decision, dict) and decision["verdict"] == "approve"
    checks = {c["check"]: c for c in document["checks"]}  # type: ignore[attr-defined]
    assert set(checks) == {"security", "integrity", "license", "documentation", "dependencies"}
    license_data = checks["license"]["data"]
    assert license_data["class"] == "permissive" and license_data["conflict"] is False
    assert license_data["licenses"] == [{"id": "apache-2.0", "where": "README.md metadata `license`"}]
    documents = document["documents"]
    assert isinstance(documents, dict) and Path(documents["report"]).is_file()


def test_a_second_admit_of_the_same_content_reuses_the_version(steward: Steward, tmp_path: Path) -> None:
    folder = str(model_folder(tmp_path / "m"))
    admit_json(steward, folder, "--name", "tiny")
    code, document = admit_json(steward, folder, "--name", "tiny")
    assert (code, document["version"], document["new_version"]) == (0, 1, False)


def test_errors_are_named_and_exit_2_or_4(steward: Steward, tmp_path: Path) -> None:
    missing = steward("admit", str(tmp_path / "nowhere"), "--name", "x")
    assert missing.exit_code == 2 and "nowhere" in missing.stderr and not missing.stdout
    (tmp_path / "policy.yaml").write_text("version: 1\nname: p\nmax_severity:\n  security: severe\n")
    bad_policy = steward("admit", str(tmp_path), "--name", "x", "--policy", str(tmp_path / "policy.yaml"))
    assert bad_policy.exit_code == 4
    assert "policy.yaml:4:" in bad_policy.stderr and "severe" in bad_policy.stderr
    bad_name = steward("admit", str(model_folder(tmp_path / "m")), "--name", "bad name")
    assert bad_name.exit_code == 2 and "bad name" in bad_name.stderr


def test_verify_exits_1_on_a_changed_file(steward: Steward, tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "m")
    admit_json(steward, str(folder), "--name", "tiny")
    assert steward("verify", "tiny@1").exit_code == 0
    assert steward("verify", "tiny@1", str(folder)).exit_code == 0
    (folder / "config.json").write_text("{}")
    changed = steward("verify", "tiny@1", str(folder), "--json")
    assert changed.exit_code == 1
    assert json.loads(changed.stdout)["changed"] == ["config.json"]
    unknown = steward("verify", "nope@1")
    assert unknown.exit_code == 2 and "nope" in unknown.stderr
