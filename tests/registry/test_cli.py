"""``steward registry`` and ``steward audit`` through the command line: output, JSON and exit codes."""

from __future__ import annotations

import json

import pytest

from modelsteward.core import Verdict
from modelsteward.registry import Registry
from tests.conftest import Steward
from tests.registry._samples import register_sample


@pytest.fixture(autouse=True)
def _registry(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command runs against the test database, as user ``tester``."""
    monkeypatch.setenv("STEWARD_DATABASE_URL", database_url)
    monkeypatch.setenv("USER", "tester")


@pytest.fixture
def bert(database_url: str) -> None:
    """bert@1 (approve, apache-2.0) and bert@2 (review, mit), which drops one file and adds another."""
    with Registry.open(database_url) as opened:
        register_sample(opened, "bert", b"weights", b"old")
        register_sample(
            opened, "bert", b"weights", b"new", b"more", verdict=Verdict.REVIEW, licenses=("mit",)
        )


@pytest.mark.usefixtures("bert")
def test_list_as_table_and_json(steward: Steward) -> None:
    table = steward("registry", "list")
    assert table.exit_code == 0
    assert "bert" in table.stdout and "review" in table.stdout
    listed = json.loads(steward("registry", "list", "--json").stdout)
    assert [(m["name"], m["versions"], m["latest"], m["verdict"]) for m in listed] == [
        ("bert", 2, 2, "review")
    ]


@pytest.mark.usefixtures("bert")
def test_show_as_table_and_json(steward: Steward) -> None:
    steward("registry", "approve", "bert@1", "--role", "security", "--comment", "looks fine")
    table = steward("registry", "show", "bert@1")
    assert table.exit_code == 0
    for text in (
        "bert@1",
        "approve",
        "hf://org/bert@main",
        "2 (",
        "report",
        "security",
        "looks fine",
        "tester",
    ):
        assert text in table.stdout
    shown = json.loads(steward("registry", "show", "bert", "--json").stdout)
    assert (shown["name"], shown["number"], shown["verdict"]) == ("bert", 2, "review")
    assert [f["path"] for f in shown["manifest"]["files"]] == ["f0.bin", "f1.bin", "f2.bin"]
    assert shown["created"].endswith("+00:00")


@pytest.mark.usefixtures("bert")
def test_diff_as_table_and_json(steward: Steward) -> None:
    table = steward("registry", "diff", "bert@1", "bert@2")
    assert table.exit_code == 0
    for text in ("bert@1 -> bert@2", "approve", "review", "apache-2.0", "mit", "f2.bin", "changed"):
        assert text in table.stdout
    diff = json.loads(steward("registry", "diff", "bert@1", "bert@2", "--json").stdout)
    assert (diff["added"], diff["removed"], diff["changed"]) == (["f2.bin"], [], ["f1.bin"])
    assert diff["verdicts"] == ["approve", "review"]
    assert diff["licenses"] == [["apache-2.0"], ["mit"]]


@pytest.mark.usefixtures("bert")
def test_alias_rollback_archive_tag_approve(steward: Steward) -> None:
    assert (
        steward("registry", "alias", "set", "bert", "production", "1").stdout == "bert@production -> bert@1\n"
    )
    assert steward("registry", "alias", "set", "bert", "production", "2", "--actor", "ops").exit_code == 0
    assert steward("registry", "rollback", "bert", "production").stdout == "bert@production -> bert@1\n"
    assert steward("registry", "archive", "bert@2").stdout == "bert@2 archived\n"
    assert steward("registry", "tag", "bert@1", "gold").exit_code == 0
    assert steward("registry", "untag", "bert@1", "gold").exit_code == 0
    approved = steward("registry", "approve", "bert@production", "--role", "legal")
    assert approved.stdout == "bert@production approved by tester as legal\n"
    assert steward("registry", "alias", "remove", "bert", "production").exit_code == 0
    entries = json.loads(steward("audit", "list", "--json").stdout)
    assert [(e["action"], e["actor"]) for e in entries[2:]] == [
        ("alias.set", "tester"),
        ("alias.set", "ops"),
        ("alias.rollback", "tester"),
        ("archive", "tester"),
        ("tag", "tester"),
        ("untag", "tester"),
        ("approve", "tester"),
        ("alias.remove", "tester"),
    ]


@pytest.mark.usefixtures("bert")
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("registry", "show", "gpt"), 1, "error: no model named gpt"),
        (("registry", "show", "bert@9"), 1, "error: bert has no version 9"),
        (("registry", "rollback", "bert", "production"), 1, "error: bert has no alias production"),
        (("registry", "show", "bert@"), 4, "error: bad reference 'bert@'"),
        (("registry", "tag", "bert@1", "a b"), 4, "error: bad tag 'a b'"),
        (("registry", "alias", "set", "bert", "production", "one"), 4, "must be a version number"),
        (("registry", "approve", "bert@1"), 4, "--role"),
        (("registry",), 4, "COMMAND"),
    ],
)
def test_errors_are_messages_with_exit_codes(
    steward: Steward, args: tuple[str, ...], code: int, message: str
) -> None:
    result = steward(*args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("bert")
def test_audit_verify_and_list(steward: Steward, database_url: str) -> None:
    intact = steward("audit", "verify")
    assert intact.exit_code == 0
    assert intact.stdout.startswith("audit chain intact: 2 entries; head 2 ")
    report = json.loads(steward("audit", "verify", "--json").stdout)
    assert (report["ok"], report["entries"], report["problems"]) == (True, 2, [])
    head = report["head"]["hash"]
    assert steward("audit", "verify", "--anchor", head).exit_code == 0
    listed = steward("audit", "list")
    assert "admit" in listed.stdout and "bert@2" in listed.stdout
    cut = steward("audit", "verify", "--anchor", "f" * 64, "--json")
    assert cut.exit_code == 1
    assert [p["kind"] for p in json.loads(cut.stdout)["problems"]] == ["truncated"]
    broken = steward("audit", "verify", "--anchor", "f" * 64)
    assert broken.exit_code == 1
    assert "audit chain BROKEN" in broken.stdout and "truncated" in broken.stdout


def test_an_unreachable_database_is_a_message(steward: Steward, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/registry")
    result = steward("registry", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: registry database postgresql")
