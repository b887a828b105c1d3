"""The scanner as a check of the gate: status, data contract and allowed globals from the policy."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

from modelsteward.checks import CheckContext
from modelsteward.checks.security import run
from modelsteward.core import CheckStatus, FileEntry, Manifest, Snapshot
from modelsteward.core.rules import load_catalogue
from modelsteward.reports import sarif


class Block:
    """A class outside every allowlist, pickled by reference."""


def snapshot_of(root: Path) -> Snapshot:
    files = tuple(
        FileEntry(
            path.relative_to(root).as_posix(),
            path.stat().st_size,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(root.rglob("*"))
        if path.is_file()
    )
    return Snapshot(root=root, manifest=Manifest(files=files, shard_size=1 << 30), source=str(root))


def test_clean_snapshot_passes(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"hidden_size": 8}')
    result = run(snapshot_of(tmp_path), CheckContext(jobs=1))
    assert result.check == "security"
    assert result.status is CheckStatus.PASS
    assert result.data["files"] == 1 and result.data["incomplete"] == [] and result.data["highest"] is None


def test_dangerous_pickle_fails_and_names_the_file(tmp_path: Path, canary: Path) -> None:
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "model.bin").write_bytes(f"cposix\nsystem\n(S'touch {canary}'\ntR.".encode())
    result = run(snapshot_of(tmp_path), CheckContext(jobs=1))
    assert result.status is CheckStatus.FAIL
    assert result.data["highest"] == "critical"
    assert {f.path for f in result.findings} == {"weights/model.bin"}
    assert not canary.exists()


def test_unreadable_content_is_a_warning_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"\x80\x04\x95" + b"\x00" * 3)  # a pickle cut short
    result = run(snapshot_of(tmp_path), CheckContext(jobs=1))
    assert result.status in {CheckStatus.WARN, CheckStatus.FAIL}
    assert result.data["incomplete"][0]["path"] == "model.bin"
    assert result.data["incomplete"][0]["reasons"]


def test_globals_the_policy_allows_are_not_findings(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(Block()))
    unknown = run(snapshot_of(tmp_path), CheckContext(jobs=1))
    allowed = run(
        snapshot_of(tmp_path), CheckContext(allowed_globals=frozenset({f"{__name__}:Block"}), jobs=1)
    )
    assert unknown.findings
    assert not allowed.findings, allowed.findings


def test_sarif_of_the_check_lists_every_file_and_gap(tmp_path: Path, canary: Path) -> None:
    (tmp_path / "model.bin").write_bytes(f"cposix\nsystem\n(S'touch {canary}'\ntR.".encode())
    (tmp_path / "cut.pkl").write_bytes(b"\x80\x04\x95" + b"\x00" * 3)
    snapshot = snapshot_of(tmp_path)
    result = run(snapshot, CheckContext(jobs=1))
    log = json.loads(sarif.render_check(result, snapshot.manifest, load_catalogue()))
    run_ = log["runs"][0]
    assert [a["location"]["uri"] for a in run_["artifacts"]] == ["cut.pkl", "model.bin"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run_["results"]} >= {
        "model.bin"
    }
    notes = run_["invocations"][0]["toolExecutionNotifications"]
    assert any(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "cut.pkl" for n in notes)
