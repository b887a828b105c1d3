"""Identity in the registry: users and roles, API tokens, separation of duties, rejections and the
approvals an alias requires."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from modelsteward.registry import Registry, RegistryError, RegistryInputError, Role
from modelsteward.registry._database import Database
from modelsteward.registry._migrate import alembic_config
from tests.registry._samples import register_sample
from tests.registry.conftest import Admit

LATER = datetime(2100, 1, 1, tzinfo=UTC)


# Users and roles


@pytest.mark.parametrize("role", list(Role))
def test_each_role_can_be_given_and_changed(registry: Registry, role: Role) -> None:
    domains = ("security",) if role is Role.REVIEWER else ()
    user = registry.add_user("pat", role, domains=domains, actor="root")
    assert (user.name, user.role, user.domains, user.disabled) == ("pat", role, domains, False)
    assert registry.user("pat") == user
    changed = registry.set_role("pat", Role.REVIEWER, domains=["legal", "ethics", "legal"], actor="root")
    assert (changed.role, changed.domains) == (Role.REVIEWER, ("legal", "ethics"))
    entry = registry.audit()[-1]
    assert (entry.action, entry.actor, entry.subject) == ("user.role", "root", "pat")
    assert entry.payload == {
        "role": "reviewer",
        "domains": ["legal", "ethics"],
        "previous": {"role": role.value, "domains": list(domains)},
    }


def test_users_are_listed_by_name_and_every_change_is_audited(registry: Registry) -> None:
    registry.add_user("zoe", "owner", actor="root")
    registry.add_user("amy", Role.REVIEWER, domains=("security",), actor="root")
    registry.set_role("amy", "reviewer", domains=("security",), actor="root")  # no change: not audited
    registry.disable_user("zoe", actor="root")
    registry.disable_user("zoe", actor="root")  # already disabled: not audited
    assert [(u.name, u.role, u.disabled) for u in registry.users()] == [
        ("amy", Role.REVIEWER, False),
        ("zoe", Role.OWNER, True),
    ]
    assert [(e.action, e.subject, e.actor) for e in registry.audit()] == [
        ("user.add", "zoe", "root"),
        ("user.add", "amy", "root"),
        ("user.disable", "zoe", "root"),
    ]
    assert registry.verify_audit().ok


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda r: r.add_user("bad name", "viewer", actor="root"), RegistryInputError, "bad user name"),
        (lambda r: r.add_user("pat", "king", actor="root"), RegistryInputError, "bad role 'king'"),
        (
            lambda r: r.add_user("pat", "owner", domains=("legal",), actor="root"),
            RegistryInputError,
            "only reviewers have domains",
        ),
        (
            lambda r: r.add_user("pat", "reviewer", domains=("no way",), actor="root"),
            RegistryInputError,
            "bad domain",
        ),
        (lambda r: r.add_user("sam", "viewer", actor="root"), RegistryError, "user sam exists already"),
        (lambda r: r.add_user("pat", "viewer", actor=" "), RegistryInputError, "needs an actor"),
        (lambda r: r.user("nobody"), RegistryError, "no user named nobody"),
        (lambda r: r.set_role("nobody", "admin", actor="root"), RegistryError, "no user named nobody"),
        (lambda r: r.disable_user("nobody", actor="root"), RegistryError, "no user named nobody"),
        (lambda r: r.tokens("nobody"), RegistryError, "no user named nobody"),
    ],
)
def test_user_errors(registry: Registry, call: object, error: type[Exception], message: str) -> None:
    registry.add_user("sam", "viewer", actor="root")
    with pytest.raises(error, match=message):
        call(registry)  # type: ignore[operator]
    assert [e.action for e in registry.audit()] == ["user.add"]


# Tokens


def test_a_token_authenticates_its_user_and_records_when_it_was_used(registry: Registry) -> None:
    registry.add_user("sam", "submitter", actor="root")
    issued = registry.issue_token("sam", name="ci", expires=LATER, actor="root")
    assert issued.info.id.startswith("tok_") and len(issued.info.id) == 16
    assert issued.secret.startswith(f"stw_{issued.info.id[4:]}_")
    assert len(issued.secret) == len("stw_") + 12 + 1 + 43
    assert (issued.info.user, issued.info.name, issued.info.expires) == ("sam", "ci", LATER)
    assert issued.info.last_used is None and issued.info.revoked is None
    user = registry.authenticate(issued.secret)
    assert user is not None and (user.name, user.role) == ("sam", Role.SUBMITTER)
    [listed] = registry.tokens("sam")
    assert listed.last_used is not None
    assert listed == registry.tokens()[0]
    entry = registry.audit()[-1]
    assert (entry.action, entry.subject, entry.actor) == ("token.issue", issued.info.id, "root")
    assert entry.payload == {"user": "sam", "name": "ci", "expires": LATER.isoformat()}
    assert issued.secret not in str(entry.payload)


def test_last_used_is_written_at_most_once_a_minute(registry: Registry) -> None:
    registry.add_user("sam", "viewer", actor="root")
    secret = registry.issue_token("sam", expires=None, actor="root").secret
    first = datetime.now(UTC) + timedelta(hours=1)
    registry.authenticate(secret, now=first)
    registry.authenticate(secret, now=first + timedelta(seconds=30))
    assert registry.tokens()[0].last_used == first
    registry.authenticate(secret, now=first + timedelta(minutes=2))
    assert registry.tokens()[0].last_used == first + timedelta(minutes=2)


def test_a_token_stops_at_its_expiry(registry: Registry) -> None:
    registry.add_user("sam", "viewer", actor="root")
    expires = datetime.now(UTC) + timedelta(days=1)
    secret = registry.issue_token("sam", expires=expires, actor="root").secret
    assert registry.authenticate(secret, now=expires - timedelta(seconds=1)) is not None
    assert registry.authenticate(secret, now=expires) is None
    assert registry.authenticate(secret, now=expires + timedelta(days=1)) is None


def test_a_token_without_expiry_holds_until_revoked(registry: Registry) -> None:
    registry.add_user("sam", "viewer", actor="root")
    issued = registry.issue_token("sam", expires=None, actor="root")
    assert registry.authenticate(issued.secret, now=LATER) is not None
    revoked = registry.revoke_token(issued.info.id, actor="root")
    assert revoked.revoked is not None
    assert registry.authenticate(issued.secret) is None
    again = registry.revoke_token(issued.info.id, actor="root")  # nothing more happens
    assert again.revoked == revoked.revoked
    assert [(e.action, e.subject) for e in registry.audit()][-1] == ("token.revoke", issued.info.id)
    assert [e.action for e in registry.audit()].count("token.revoke") == 1


def test_disabling_a_user_stops_every_token_of_theirs(registry: Registry) -> None:
    registry.add_user("sam", "owner", actor="root")
    secrets = [registry.issue_token("sam", expires=None, actor="root").secret for _ in range(2)]
    registry.disable_user("sam", actor="root")
    assert [registry.authenticate(s) for s in secrets] == [None, None]
    with pytest.raises(RegistryError, match="user sam is disabled"):
        registry.issue_token("sam", expires=None, actor="root")


def test_wrong_unknown_and_malformed_secrets_authenticate_nobody(registry: Registry) -> None:
    registry.add_user("sam", "viewer", actor="root")
    issued = registry.issue_token("sam", expires=None, actor="root")
    secret = issued.secret
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    other_id = "stw_" + ("0" * 12 if secret[4:16] != "0" * 12 else "1" * 12) + secret[16:]
    for attempt in (
        flipped,  # the right id, a wrong secret
        other_id,  # an id that names no token
        "",
        "stw_",
        secret + "x",
        secret[:-1],
        secret.upper(),
        "Bearer " + secret,
        issued.info.id,
        hashlib.sha256(secret.encode()).hexdigest(),  # what the database holds is not a secret
        "stw_" + "g" * 12 + secret[16:],
        "x" * 10_000,
    ):
        assert registry.authenticate(attempt) is None, attempt
    assert registry.authenticate(secret) is not None


def test_the_secret_is_never_stored_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    with Registry.open(f"sqlite:///{path}") as registry:
        registry.add_user("sam", "viewer", actor="root")
        issued = registry.issue_token("sam", name="laptop", expires=None, actor="root")
        registry.authenticate(issued.secret)
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("registry.db"))
    random_part = issued.secret[17:].encode()
    assert issued.secret.encode() not in stored
    assert random_part not in stored
    assert hashlib.sha256(issued.secret.encode()).hexdigest().encode() in stored


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda r: r.issue_token("nobody", expires=None, actor="root"),
            RegistryError,
            "no user named nobody",
        ),
        (
            lambda r: r.issue_token("sam", expires=datetime(2000, 1, 1, tzinfo=UTC), actor="root"),
            RegistryInputError,
            "cannot expire in the past",
        ),
        (
            lambda r: r.issue_token("sam", expires=datetime(2100, 1, 1), actor="root"),
            RegistryInputError,
            "aware",
        ),
        (
            lambda r: r.issue_token("sam", name="x" * 101, expires=None, actor="root"),
            RegistryInputError,
            "bad token name",
        ),
        (lambda r: r.revoke_token("tok_000000000000", actor="root"), RegistryError, "no token"),
        (lambda r: r.revoke_token("nonsense", actor="root"), RegistryInputError, "bad token id"),
    ],
)
def test_token_errors(registry: Registry, call: object, error: type[Exception], message: str) -> None:
    registry.add_user("sam", "viewer", actor="root")
    with pytest.raises(error, match=message):
        call(registry)  # type: ignore[operator]
    assert [e.action for e in registry.audit()] == ["user.add"]


def test_tokens_are_listed_per_user(registry: Registry) -> None:
    registry.add_user("sam", "viewer", actor="root")
    registry.add_user("kim", "viewer", actor="root")
    sam = registry.issue_token("sam", name="a", expires=None, actor="root").info
    kim = registry.issue_token("kim", name="b", expires=None, actor="root").info
    assert [t.id for t in registry.tokens("sam")] == [sam.id]
    assert [t.id for t in registry.tokens("kim")] == [kim.id]
    assert {t.id for t in registry.tokens()} == {sam.id, kim.id}


# Separation of duties and rejections


def test_the_submitter_of_a_version_can_never_approve_or_reject_it(registry: Registry, admit: Admit) -> None:
    admit("bert", b"1", actor="alice")
    assert registry.get("bert@1").submitted_by == "alice"
    for decide in (registry.approve, registry.reject):
        with pytest.raises(RegistryError, match="separation of duties: alice submitted bert@1"):
            decide("bert@1", role="security", actor="alice")
    assert [e.action for e in registry.audit()] == ["admit"]
    approval = registry.approve("bert@1", role="security", actor="sam")
    assert (approval.actor, approval.decision) == ("sam", "approve")
    # Registering the same content again is no new submission: the first submitter stays.
    admit("bert", b"1", actor="sam")
    assert registry.get("bert@1").submitted_by == "alice"


def test_a_rejection_is_kept_and_audited(registry: Registry, admit: Admit) -> None:
    admit("bert", b"1")
    rejection = registry.reject("bert@1", role="legal", actor="lee", comment="licence unclear")
    assert (rejection.role, rejection.actor, rejection.decision, rejection.comment) == (
        "legal",
        "lee",
        "reject",
        "licence unclear",
    )
    assert registry.get("bert@1").approvals == (rejection,)
    entry = registry.audit()[-1]
    assert (entry.action, entry.actor, entry.subject) == ("reject", "lee", "bert@1")
    assert entry.payload == {"role": "legal", "comment": "licence unclear"}
    assert registry.verify_audit().ok
    registry.archive("bert@1", actor="alice")
    with pytest.raises(RegistryError, match="bert@1 is archived: it cannot get a rejection"):
        registry.reject("bert@1", role="legal", actor="lee")


# Approvals an alias requires


def test_an_alias_needs_every_required_approval(registry: Registry, admit: Admit) -> None:
    admit("bert", b"1")
    required = ("security", "legal")
    needs = "bert@1 cannot become production: it needs approvals in security, legal"
    with pytest.raises(RegistryError, match=needs):
        registry.set_alias("bert", "production", 1, actor="owen", required_approvals=required)
    registry.approve("bert@1", role="security", actor="sam")
    with pytest.raises(RegistryError, match=r"it needs approvals in legal$"):
        registry.set_alias("bert", "production", 1, actor="owen", required_approvals=required)
    registry.approve("bert@1", role="legal", actor="lee")
    registry.set_alias("bert", "production", 1, actor="owen", required_approvals=required)
    assert registry.get("bert@production").number == 1
    # Nothing required: the alias moves as before.
    admit("bert", b"2")
    registry.set_alias("bert", "staging", 2, actor="owen")


def test_a_later_rejection_blocks_promotion_until_approved_again(registry: Registry, admit: Admit) -> None:
    admit("bert", b"1")
    registry.approve("bert@1", role="security", actor="sam")
    registry.approve("bert@1", role="legal", actor="lee")
    registry.reject("bert@1", role="legal", actor="lou", comment="found a clause")
    with pytest.raises(RegistryError, match=r"needs approvals in legal; it was rejected in legal \(by lou\)"):
        registry.set_alias("bert", "production", 1, actor="owen", required_approvals=("security", "legal"))
    registry.approve("bert@1", role="legal", actor="lou", comment="clause waived")
    registry.set_alias("bert", "production", 1, actor="owen", required_approvals=("security", "legal"))


def test_a_rejection_outside_the_required_domains_still_blocks(registry: Registry, admit: Admit) -> None:
    admit("bert", b"1")
    registry.approve("bert@1", role="security", actor="sam")
    registry.reject("bert@1", role="ethics", actor="eve")
    with pytest.raises(RegistryError, match=r"rejected in ethics \(by eve\)"):
        registry.set_alias("bert", "production", 1, actor="owen", required_approvals=("security",))
    assert [e.action for e in registry.audit()] == ["admit", "approve", "reject"]


def test_a_rollback_needs_the_required_approvals_too(registry: Registry, admit: Admit) -> None:
    required = ("security",)
    admit("bert", b"1")
    admit("bert", b"2")
    for number in (1, 2):
        registry.approve(f"bert@{number}", role="security", actor="sam")
        registry.set_alias("bert", "production", number, actor="owen", required_approvals=required)
    registry.reject("bert@1", role="security", actor="sue", comment="CVE in its tokenizer")
    with pytest.raises(
        RegistryError, match=r"bert@1 cannot become production: .*rejected in security \(by sue\)"
    ):
        registry.rollback("bert", "production", actor="owen", required_approvals=required)
    assert registry.get("bert@production").number == 2 and registry.audit()[-1].action == "reject"
    registry.approve("bert@1", role="security", actor="sam", comment="patched")
    assert registry.rollback("bert", "production", actor="owen", required_approvals=required).number == 1


def test_a_bad_required_domain_is_input_error(registry: Registry, admit: Admit) -> None:
    admit("bert", b"1")
    with pytest.raises(RegistryInputError, match="bad role"):
        registry.set_alias("bert", "production", 1, actor="owen", required_approvals=("no way",))


# Migration from 0004


def test_migrating_from_0004_learns_submitters_from_the_audit_log(database_url: str) -> None:
    with Registry.open(database_url) as registry:
        register_sample(registry, "bert", b"1", actor="alice")
        register_sample(registry, "bert", b"2", actor="bob")
        register_sample(registry, "org/gpt", b"3", actor="carol")
        registry.approve("bert@1", role="security", actor="sam")
    database = Database(database_url)
    with database.locked_connection() as connection:
        command.downgrade(alembic_config(connection), "0004")
    database.dispose()
    engine = create_engine(Database(database_url).url, poolclass=NullPool)
    with engine.connect() as connection:
        columns = connection.execute(text("SELECT * FROM versions")).keys()
        assert "submitted_by" not in columns
    engine.dispose()
    with Registry.open(database_url) as registry:
        assert [registry.get(r).submitted_by for r in ("bert@1", "bert@2", "org/gpt@1")] == [
            "alice",
            "bob",
            "carol",
        ]
        assert [a.decision for a in registry.get("bert@1").approvals] == ["approve"]
        with pytest.raises(RegistryError, match="separation of duties"):
            registry.approve("bert@2", role="security", actor="bob")
        registry.approve("bert@2", role="security", actor="alice")
        assert registry.users() == []
        assert registry.verify_audit().ok
