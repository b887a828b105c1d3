"""``steward advisories sync``, ``audit-deps``, ``sbom`` and ``watch`` through the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from tests.conftest import Steward
from tests.gate.test_admit import model_folder

OSV = Path(__file__).resolve().parents[1] / "checks" / "dependencies" / "osv"
TORCH_ADVISORY = "GHSA-53q9-r3pm-6pq6"


@pytest.fixture(autouse=True)
def _workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STEWARD_DATABASE_URL", raising=False)


@pytest.fixture
def pinned(steward: Steward, tmp_path: Path) -> str:
    """A registered model whose requirements pin torch 2.5.1, admitted before any advisory is known."""
    folder = model_folder(tmp_path / "pinned")
    (folder / "requirements.txt").write_text("torch==2.5.1\n")
    result = steward("admit", str(folder), "--name", "pinned", "--quiet")
    assert result.exit_code == 0, result
    return "pinned@1"


def export(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    shutil.copytree(OSV, folder, ignore=shutil.ignore_patterns("*.md"))
    return folder


def test_sync_then_audit_deps_names_the_advisory_and_the_fix(
    steward: Steward, pinned: str, tmp_path: Path
) -> None:
    before = steward("audit-deps", pinned)
    assert before.exit_code == 2 and "advisories sync" in before.stderr
    synced = steward("advisories", "sync", "--from", str(export(tmp_path)), "--json", "--quiet")
    assert synced.exit_code == 0, synced
    document = json.loads(synced.stdout)
    assert document["added"] == 18 and document["invalid"] == []
    assert [(f["version"], f["advisory"]) for f in document["found"]] == [(pinned, TORCH_ADVISORY)]

    audited = steward("audit-deps", pinned, "--json")
    assert audited.exit_code == 1
    [vulnerability] = json.loads(audited.stdout)["vulnerabilities"]
    assert vulnerability["component"]["name"] == "torch" and vulnerability["fixed"][0] == "2.6.0"
    assert vulnerability["severity"] == "critical" and "CVE-2025-32434" in vulnerability["aliases"]
    table = steward("audit-deps", "--all")
    assert table.exit_code == 1 and TORCH_ADVISORY in table.stdout and "2.6.0" in table.stdout
    # Nothing at or above critical but this one: --fail-on decides the exit status.
    assert steward("audit-deps", pinned, "--fail-on", "critical").exit_code == 1
    assert steward("audit-deps", pinned, "--fail-on", "bogus").exit_code == 4
    assert steward("audit-deps").exit_code == 4
    assert steward("audit-deps", "missing@1").exit_code == 2


def test_sbom_lists_the_components_and_the_vulnerabilities_on_record(
    steward: Steward, pinned: str, tmp_path: Path
) -> None:
    steward("advisories", "sync", "--from", str(export(tmp_path)), "--quiet")
    out = tmp_path / "sbom.json"
    result = steward("sbom", pinned, "-o", str(out))
    assert result.exit_code == 0, result
    text = out.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    purls = {c.get("purl") for c in bom["components"]}
    assert "pkg:pypi/torch@2.5.1" in purls
    assert [v["id"] for v in bom["vulnerabilities"]] == [TORCH_ADVISORY]
    missing = steward("sbom", "missing@1")
    assert missing.exit_code == 2 and "no model named missing" in missing.stderr
    unwritable = steward("sbom", pinned, "-o", str(tmp_path / "no" / "such" / "sbom.json"))
    assert unwritable.exit_code == 2 and "cannot write" in unwritable.stderr


def test_a_broken_record_is_named_and_the_rest_stored(steward: Steward, tmp_path: Path) -> None:
    folder = export(tmp_path)
    (folder / "BROKEN-1.json").write_text(json.dumps({"id": "BROKEN-1", "modified": "soon"}))
    result = steward("advisories", "sync", "--from", str(folder), "--quiet")
    assert result.exit_code == 2
    assert "18 advisories added" in result.stdout
    assert "BROKEN-1" in result.stderr and "modified" in result.stderr
    missing = steward("advisories", "sync", "--from", str(tmp_path / "nowhere.zip"), "--quiet")
    assert missing.exit_code == 4 and "nowhere.zip" in missing.stderr


def test_watch_once_as_json_and_its_usage_errors(steward: Steward, pinned: str, tmp_path: Path) -> None:
    steward("advisories", "sync", "--from", str(export(tmp_path)), "--quiet")
    result = steward("watch", "--json", "--quiet")
    # A local folder has no upstream; the advisory synced after its admission is news.
    assert result.exit_code == 1, result
    report = json.loads(result.stdout)
    assert report["models"] == []
    assert [(e["kind"], e["subject"]) for e in report["notifications"]] == [("watch.vulnerability", pinned)]
    assert steward("watch", "--json", "--quiet").exit_code == 0  # told once

    assert steward("watch", "--every", "soon").exit_code == 4
    assert steward("watch", "--evaluate", "no-equals").exit_code == 4
    unknown = steward("watch", "--evaluate", "pinned=--data x.csv --label y")
    assert unknown.exit_code == 4 and "--evaluate pinned: unrecognized arguments: --label y" in unknown.stderr
    assert "usage:" not in unknown.stderr
    bad = tmp_path / "notify.yaml"
    bad.write_text("notifiers:\n  - {kind: pager}\n")
    refused = steward("watch", "--notify", str(bad))
    assert refused.exit_code == 4 and "notify.yaml:2" in refused.stderr
