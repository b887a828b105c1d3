"""The audit chain: every change is an entry, and any edited, deleted or reordered entry is found."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from modelsteward.registry import AuditEntry, Registry, Tamper
from modelsteward.registry._audit import GENESIS, entry_hash, verify
from modelsteward.registry._database import Database
from tests.registry.conftest import Admit

START = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _chain(length: int) -> list[AuditEntry]:
    """A valid chain of ``length`` entries."""
    entries: list[AuditEntry] = []
    for seq in range(1, length + 1):
        fields = {
            "seq": seq,
            "at": START + timedelta(seconds=seq),
            "actor": "alice",
            "action": "tag",
            "subject": f"bert@{seq}",
            "payload": {"tag": f"t{seq}", "nested": {"n": seq, "list": [1.5, None, True]}},
            "prev_hash": entries[-1].hash if entries else GENESIS,
        }
        entries.append(AuditEntry(**fields, hash=entry_hash(**fields)))  # type: ignore[arg-type]
    return entries


def _problems(entries: list[AuditEntry], anchor: str | None = None) -> list[tuple[int, Tamper]]:
    return [(p.seq, p.kind) for p in verify(entries, anchor=anchor).problems]


def test_an_intact_chain_is_ok() -> None:
    entries = _chain(5)
    report = verify(entries, anchor=entries[2].hash)
    assert report.ok
    assert report.entries == 5
    assert report.head == entries[-1]
    assert verify([]).ok


def test_an_edited_entry_is_found() -> None:
    entries = _chain(5)
    entries[2] = dataclasses.replace(entries[2], payload={"tag": "evil"})
    assert _problems(entries) == [(3, Tamper.EDITED)]


def test_an_entry_rewritten_with_a_fresh_hash_is_found_by_its_successor() -> None:
    entries = _chain(5)
    forged = dataclasses.replace(entries[2], actor="mallory")
    fields = {f.name: getattr(forged, f.name) for f in dataclasses.fields(forged) if f.name != "hash"}
    entries[2] = dataclasses.replace(forged, hash=entry_hash(**fields))
    assert _problems(entries) == [(3, Tamper.EDITED)]


@pytest.mark.parametrize(("gone", "found"), [([3], 3), ([1], 1), ([2, 3, 4], 2)])
def test_deleted_entries_are_found(gone: list[int], found: int) -> None:
    entries = [e for e in _chain(6) if e.seq not in gone]
    report = verify(entries)
    assert [(p.seq, p.kind) for p in report.problems] == [(found, Tamper.DELETED)]
    assert report.problems[0].detail in {
        f"entry {found} is missing",
        f"entries {found} to {found + 2} are missing",
    }


@pytest.mark.parametrize("first", [0, 1, 3])
def test_swapped_entries_are_found(first: int) -> None:
    entries = _chain(5)
    a, b = entries[first], entries[first + 1]
    entries[first] = dataclasses.replace(b, seq=a.seq)
    entries[first + 1] = dataclasses.replace(a, seq=b.seq)
    assert _problems(entries) == [(a.seq, Tamper.REORDERED), (b.seq, Tamper.REORDERED)]


def test_rotated_entries_are_found() -> None:
    entries = _chain(5)
    moved = [entries[2], entries[3], entries[1]]
    entries[1:4] = [dataclasses.replace(e, seq=seq) for e, seq in zip(moved, (2, 3, 4), strict=True)]
    report = verify(entries)
    assert [(p.seq, p.kind) for p in report.problems] == [(n, Tamper.REORDERED) for n in (2, 3, 4)]
    assert report.problems[2].detail == "the entry written as 2 stands at 4"


def test_a_cut_tail_is_found_only_with_an_anchor() -> None:
    entries = _chain(5)
    head = entries[-1].hash
    cut = entries[:3]
    assert verify(cut).ok
    assert _problems(cut, anchor=head) == [(4, Tamper.TRUNCATED)]
    assert _problems([], anchor=head) == [(1, Tamper.TRUNCATED)]


def test_every_change_is_an_audit_entry_chained_to_the_one_before(registry: Registry, admit: Admit) -> None:
    admit("bert", b"1")
    admit("bert", b"1")
    admit("bert", b"2")
    registry.set_alias("bert", "production", 1, actor="alice")
    registry.set_alias("bert", "production", 2, actor="alice")
    registry.rollback("bert", "production", actor="alice")
    registry.remove_alias("bert", "production", actor="alice")
    registry.tag("bert@1", "gold", actor="alice")
    registry.untag("bert@1", "gold", actor="alice")
    registry.approve("bert@1", role="legal", actor="lee")
    registry.archive("bert@2", actor="alice")
    registry.archive("bert", actor="alice")
    entries = registry.audit()
    assert [e.action for e in entries] == [
        "admit",
        "admit.repeat",
        "admit",
        "alias.set",
        "alias.set",
        "alias.rollback",
        "alias.remove",
        "tag",
        "untag",
        "approve",
        "archive",
        "archive",
    ]
    assert [e.seq for e in entries] == list(range(1, 13))
    assert [e.prev_hash for e in entries] == [GENESIS] + [e.hash for e in entries[:-1]]
    assert all(e.at.tzinfo == UTC for e in entries)
    report = registry.verify_audit(anchor=entries[5].hash)
    assert report.ok
    assert report.head == entries[-1]


def _tamper(database_url: str, *statements: str) -> None:
    """Change the audit log as someone with write access to the database would: triggers off first."""
    database = Database(database_url)
    engine = create_engine(database.url, poolclass=NullPool)
    with engine.begin() as connection:
        if database.is_postgresql:
            connection.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        for statement in statements:
            connection.exec_driver_sql(statement)
    engine.dispose()
    database.dispose()


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (['UPDATE audit_log SET payload = \'{"tag": "evil"}\' WHERE seq = 3'], [(3, Tamper.EDITED)]),
        (["UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"], [(1, Tamper.EDITED)]),
        (["DELETE FROM audit_log WHERE seq = 2"], [(2, Tamper.DELETED)]),
        (
            [
                "UPDATE audit_log SET seq = -1 WHERE seq = 2",
                "UPDATE audit_log SET seq = 2 WHERE seq = 3",
                "UPDATE audit_log SET seq = 3 WHERE seq = -1",
            ],
            [(2, Tamper.REORDERED), (3, Tamper.REORDERED)],
        ),
    ],
    ids=["edited-payload", "edited-actor", "deleted", "swapped"],
)
def test_tampering_in_the_database_is_found(
    registry: Registry,
    admit: Admit,
    database_url: str,
    statements: list[str],
    expected: list[tuple[int, Tamper]],
) -> None:
    admit("bert", b"1")
    for tag in ("a", "b", "c"):
        registry.tag("bert@1", tag, actor="alice")
    head = registry.verify_audit().head
    assert head is not None
    _tamper(database_url, *statements)
    report = registry.verify_audit(anchor=head.hash)
    assert [(p.seq, p.kind) for p in report.problems] == expected
    assert not report.ok


def test_a_cut_tail_in_the_database_is_found_with_the_anchor(
    registry: Registry, admit: Admit, database_url: str
) -> None:
    admit("bert", b"1")
    registry.tag("bert@1", "a", actor="alice")
    head = registry.audit()[-1].hash
    _tamper(database_url, "DELETE FROM audit_log WHERE seq = 2")
    assert registry.verify_audit().ok
    assert [p.kind for p in registry.verify_audit(anchor=head).problems] == [Tamper.TRUNCATED]


def test_a_cut_tail_that_held_an_admit_is_found_without_an_anchor(
    registry: Registry, admit: Admit, database_url: str
) -> None:
    admit("bert", b"1")
    admit("bert", b"2")
    _tamper(database_url, "DELETE FROM audit_log WHERE seq = 2")
    report = registry.verify_audit()
    assert [(p.kind, p.detail) for p in report.problems] == [
        (Tamper.TRUNCATED, "no admit entry for bert@2: entries were deleted")
    ]


def test_an_emptied_log_is_found_without_an_anchor(
    registry: Registry, admit: Admit, database_url: str
) -> None:
    admit("bert", b"1")
    admit("bert", b"2")
    _tamper(database_url, "DELETE FROM audit_log")
    assert "no admit entry for bert@1, bert@2" in registry.verify_audit().problems[0].detail
