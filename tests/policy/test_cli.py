"""``steward policy validate`` and ``steward policy schema``, through the command's own parser."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from modelsteward.cli import policy as policy_command

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"


def steward(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``steward policy ARGS...`` as the main parser would; return status, stdout and stderr."""
    parser = argparse.ArgumentParser(prog="steward")
    policy_command.register(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(["policy", *args])
    status: int = parsed.run(parsed)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_valid_file_prints_its_name_and_digest(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = steward(capsys, "validate", str(EXAMPLE))
    assert status == 0
    assert out.startswith(f"{EXAMPLE}: valid (acme-default, sha256:")


def test_an_invalid_file_prints_every_error_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text(
        "version: 1\nname: acme\nmax_severity:\n  security: severe\nlicense: {deny: [gpl]}\nx: 1\n"
    )
    status, out, err = steward(capsys, "validate", str(bad))
    assert status == 1
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"error: {bad}:4:13: max_severity.security must be one of info, low")
    assert lines[1].startswith(f"error: {bad}:6:1: x is not a policy key")
    assert "Traceback" not in err


def test_json_output_for_valid_and_invalid_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, _ = steward(capsys, "validate", str(EXAMPLE), "--json")
    document = json.loads(out)
    assert status == 0
    assert (document["valid"], document["name"], document["errors"]) == (True, "acme-default", [])
    assert document["digest"].startswith("sha256:")
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\nname: acme\nlicense: {allow: [permisive]}\n")
    status, out, _ = steward(capsys, "validate", str(bad), "--json")
    document = json.loads(out)
    assert status == 1
    assert (document["valid"], document["name"], document["digest"]) == (False, None, None)
    assert document["errors"] == [
        {
            "line": 3,
            "column": 19,
            "path": "license.allow[0]",
            "message": 'license.allow[0] is not a licence class; did you mean permissive? (got "permisive")',
        }
    ]


def test_a_file_that_cannot_be_read_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out, err = steward(capsys, "validate", str(tmp_path / "nope.yaml"))
    assert status == 4
    assert out == ""
    assert err == f"error: {tmp_path / 'nope.yaml'}: cannot read: No such file or directory\n"
    status, out, _ = steward(capsys, "validate", str(tmp_path), "--json")
    assert status == 4
    assert json.loads(out)["errors"][0]["message"] == "cannot read: Is a directory"


def test_schema_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = steward(capsys, "schema")
    schema = json.loads(out)
    assert status == 0
    assert schema["title"] == "ModelSteward policy"
    assert schema["required"] == ["version", "name"]
