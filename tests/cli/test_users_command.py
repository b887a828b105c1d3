"""``steward users``, ``steward tokens`` and the promotion rules of ``steward registry alias set``,
through the command line: output, JSON, exit codes and the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modelsteward.registry import Registry, Role
from tests.conftest import Steward
from tests.registry._samples import register_sample


@pytest.fixture(autouse=True)
def _registry(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command runs against the test database, as user ``tester``."""
    monkeypatch.setenv("STEWARD_DATABASE_URL", database_url)
    monkeypatch.setenv("USER", "tester")


def test_users_add_list_set_role_and_disable(steward: Steward, database_url: str) -> None:
    added = steward("users", "add", "rita", "--role", "reviewer", "--domain", "security", "--domain", "legal")
    assert added.exit_code == 0, added.stderr
    assert added.stdout.strip() == "user rita added as reviewer in security, legal"
    assert steward("users", "add", "owen", "--role", "owner", "--actor", "root").exit_code == 0
    table = steward("users", "list")
    assert table.exit_code == 0
    assert "2 users" in table.stdout and "security, legal" in table.stdout
    listed = steward("users", "list", "--json").json()
    assert [(u["name"], u["role"], u["domains"], u["disabled"]) for u in listed] == [
        ("owen", "owner", [], False),
        ("rita", "reviewer", ["security", "legal"], False),
    ]
    changed = steward("users", "set-role", "rita", "--role", "admin")
    assert changed.stdout.strip() == "user rita is admin"
    disabled = steward("users", "disable", "owen")
    assert disabled.exit_code == 0 and "owen disabled" in disabled.stdout
    with Registry.open(database_url) as registry:
        assert registry.user("rita").role is Role.ADMIN
        assert registry.user("owen").disabled
        assert [(e.action, e.subject, e.actor) for e in registry.audit()] == [
            ("user.add", "rita", "tester"),
            ("user.add", "owen", "root"),
            ("user.role", "rita", "tester"),
            ("user.disable", "owen", "tester"),
        ]


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (("users", "add", "pat", "--role", "king"), 4, "invalid choice: 'king'"),
        (("users", "add", "pat"), 4, "--role"),
        (("users", "add", "pat", "--role", "owner", "--domain", "legal"), 4, "only reviewers have domains"),
        (("users", "add", "bad name", "--role", "viewer"), 4, "bad user name"),
        (("users", "set-role", "nobody", "--role", "viewer"), 1, "no user named nobody"),
        (("users", "disable", "nobody"), 1, "no user named nobody"),
        (("tokens", "create", "nobody"), 1, "no user named nobody"),
        (("tokens", "create", "sam", "--expires-in", "-1"), 4, "number of days"),
        (("tokens", "revoke", "tok_000000000000"), 1, "no token tok_000000000000"),
        (("tokens", "revoke", "abc"), 4, "bad token id"),
        (("tokens", "list", "nobody"), 1, "no user named nobody"),
    ],
)
def test_errors_are_messages_with_exit_codes(
    steward: Steward, args: tuple[str, ...], status: int, message: str
) -> None:
    assert steward("users", "add", "sam", "--role", "viewer").exit_code == 0
    result = steward(*args)
    assert result.exit_code == status
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_tokens_create_prints_the_secret_once_and_list_never_does(
    steward: Steward, database_url: str
) -> None:
    steward("users", "add", "sam", "--role", "submitter")
    created = steward("tokens", "create", "sam", "--name", "ci")
    assert created.exit_code == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("stw_") and "\n" not in secret
    assert "shown only now" in created.stderr and "expires" in created.stderr
    never = steward("tokens", "create", "sam", "--expires-in", "0")
    assert "never expires" in never.stderr
    with Registry.open(database_url) as registry:
        user = registry.authenticate(secret)
        assert user is not None and user.name == "sam"
        first, second = registry.tokens("sam")
    assert first.expires is not None
    assert timedelta(days=89) < first.expires - datetime.now(UTC) <= timedelta(days=90)
    assert second.expires is None
    listed = steward("tokens", "list", "--json").json()
    assert [(t["id"], t["user"], t["name"]) for t in listed] == [
        (first.id, "sam", "ci"),
        (second.id, "sam", ""),
    ]
    table = steward("tokens", "list", "sam")
    assert first.id in table.stdout and "active" in table.stdout and "never" in table.stdout
    for shown in (table.output, json.dumps(listed)):
        assert secret not in shown and secret[17:] not in shown
    revoked = steward("tokens", "revoke", first.id)
    assert revoked.stdout.strip() == f"token {first.id} of sam revoked"
    assert "revoked" in steward("tokens", "list").stdout
    with Registry.open(database_url) as registry:
        assert registry.authenticate(secret) is None
        entries = registry.audit()
    assert [e.action for e in entries] == ["user.add", "token.issue", "token.issue", "token.revoke"]
    assert all(secret not in json.dumps(e.payload) for e in entries)


def test_alias_set_requires_the_approvals_the_policy_names(
    steward: Steward, database_url: str, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nname: acme\npromotion:\n  production:\n    approvals: [security, legal]\n")
    with Registry.open(database_url) as registry:
        register_sample(registry, "bert", b"weights", actor="tester")
    # Without a policy file the built-in one requires nothing.
    assert steward("registry", "alias", "set", "bert", "staging", "1").exit_code == 0
    refused = steward("registry", "alias", "set", "bert", "production", "1", "--policy", str(policy))
    assert refused.exit_code == 1
    assert "bert@1 cannot become production: it needs approvals in security, legal" in refused.stderr
    # Separation of duties: tester submitted bert@1.
    own = steward("registry", "approve", "bert@1", "--role", "security")
    assert own.exit_code == 1 and "separation of duties" in own.stderr
    steward("registry", "approve", "bert@1", "--role", "security", "--actor", "sam")
    steward("registry", "approve", "bert@1", "--role", "legal", "--actor", "lee")
    rejected = steward("registry", "reject", "bert@1", "--role", "legal", "--actor", "lou", "--comment", "no")
    assert rejected.stdout.strip() == "bert@1 rejected by lou as legal"
    refused = steward("registry", "alias", "set", "bert", "production", "1", "--policy", str(policy))
    assert "rejected in legal (by lou)" in refused.stderr
    steward("registry", "approve", "bert@1", "--role", "legal", "--actor", "lou")
    moved = steward("registry", "alias", "set", "bert", "production", "1", "--policy", str(policy))
    assert moved.exit_code == 0, moved.stderr
    assert moved.stdout.strip() == "bert@production -> bert@1"
    shown = steward("registry", "show", "bert@1", "--json").json()
    assert shown["submitted_by"] == "tester"
    assert [(a["role"], a["actor"], a["decision"]) for a in shown["approvals"]] == [
        ("security", "sam", "approve"),
        ("legal", "lee", "approve"),
        ("legal", "lou", "reject"),
        ("legal", "lou", "approve"),
    ]


def test_alias_set_with_a_bad_policy_is_a_usage_error(
    steward: Steward, database_url: str, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nname: acme\npromotion:\n  production:\n    aprovals: [security]\n")
    with Registry.open(database_url) as registry:
        register_sample(registry, "bert", b"weights")
    result = steward("registry", "alias", "set", "bert", "production", "1", "--policy", str(policy))
    assert result.exit_code == 4
    assert "promotion.production.aprovals is not a policy key" in result.stderr
