"""What happens to versions after registration: aliases and rollback, archiving, tags, approvals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

import pytest

from modelsteward.core import Verdict
from modelsteward.registry import Registry, RegistryError, RegistryInputError
from tests.registry.conftest import Admit


@pytest.fixture
def three(admit: Admit) -> None:
    """Versions bert@1, bert@2 and bert@3."""
    for content in (b"1", b"2", b"3"):
        admit("bert", content)


@pytest.mark.usefixtures("three")
def test_an_alias_points_at_one_version_and_moves(registry: Registry) -> None:
    registry.set_alias("bert", "production", 1, actor="alice")
    assert registry.get("bert@1").aliases == ("production",)
    registry.set_alias("bert", "production", 2, actor="bob")
    assert registry.get("bert@production").number == 2
    assert registry.get("bert@1").aliases == ()
    assert registry.get("bert@2").aliases == ("production",)
    entries = registry.audit()[-2:]
    assert [(e.action, e.actor, e.subject) for e in entries] == [
        ("alias.set", "alice", "bert"),
        ("alias.set", "bob", "bert"),
    ]
    assert entries[1].payload == {"alias": "production", "version": 2, "previous": 1}


@pytest.mark.usefixtures("three")
def test_setting_an_alias_where_it_points_changes_nothing(registry: Registry) -> None:
    registry.set_alias("bert", "production", 1, actor="alice")
    registry.set_alias("bert", "production", 1, actor="alice")
    assert [e.action for e in registry.audit()].count("alias.set") == 1


@pytest.mark.usefixtures("three")
def test_rollback_walks_back_through_the_alias_history(registry: Registry) -> None:
    for number in (1, 2, 3):
        registry.set_alias("bert", "production", number, actor="alice")
    assert registry.rollback("bert", "production", actor="bob").number == 2
    assert registry.get("bert@production").number == 2
    assert registry.rollback("bert", "production", actor="bob").number == 1
    with pytest.raises(RegistryError, match="bert@production has no earlier version to roll back to"):
        registry.rollback("bert", "production", actor="bob")
    assert registry.get("bert@production").number == 1
    assert registry.audit()[-1].payload == {"alias": "production", "from": 2, "to": 1}


@pytest.mark.usefixtures("three")
def test_rollback_skips_states_without_a_different_version(registry: Registry) -> None:
    registry.set_alias("bert", "production", 1, actor="alice")
    registry.set_alias("bert", "production", 2, actor="alice")
    registry.remove_alias("bert", "production", actor="alice")
    registry.set_alias("bert", "production", 2, actor="alice")
    # Before 2 (again) it pointed nowhere, and before that at 2 itself: the rollback goes to 1.
    assert registry.rollback("bert", "production", actor="alice").number == 1


@pytest.mark.usefixtures("three")
def test_rollback_never_points_at_an_archived_version(registry: Registry) -> None:
    registry.set_alias("bert", "production", 1, actor="alice")
    registry.set_alias("bert", "production", 2, actor="alice")
    registry.archive("bert@1", actor="alice")
    with pytest.raises(RegistryError, match="bert@1 is archived: it cannot get an alias"):
        registry.rollback("bert", "production", actor="alice")
    assert registry.get("bert@production").number == 2


@pytest.mark.usefixtures("three")
def test_removing_an_alias(registry: Registry) -> None:
    registry.set_alias("bert", "production", 3, actor="alice")
    registry.remove_alias("bert", "production", actor="alice")
    with pytest.raises(RegistryError, match="bert has no alias production"):
        registry.get("bert@production")
    with pytest.raises(RegistryError, match="bert has no alias production"):
        registry.remove_alias("bert", "production", actor="alice")
    with pytest.raises(RegistryError, match="bert has no alias production"):
        registry.rollback("bert", "production", actor="alice")
    assert registry.list_models()[0].aliases == {}


@pytest.mark.usefixtures("three")
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda r: r.set_alias("bert", "production", 9, actor="a"), RegistryError, "bert has no version 9"),
        (lambda r: r.set_alias("gpt", "production", 1, actor="a"), RegistryError, "no model named gpt"),
        (lambda r: r.set_alias("bert", "3rd", 1, actor="a"), RegistryInputError, "bad alias '3rd'"),
        (lambda r: r.set_alias("bert", "production", 0, actor="a"), RegistryInputError, "bad version 0"),
        (lambda r: r.set_alias("bert", "production", 1, actor=""), RegistryInputError, "needs an actor"),
    ],
)
def test_alias_errors(
    registry: Registry, call: Callable[[Registry], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call(registry)
    assert [e.action for e in registry.audit()] == ["admit"] * 3


@pytest.mark.usefixtures("three")
def test_an_archived_version_stays_readable_but_is_skipped(registry: Registry) -> None:
    registry.archive("bert@3", actor="alice")
    assert registry.get("bert@3").archived
    assert registry.get("bert").number == 2
    for call in (
        lambda: registry.set_alias("bert", "production", 3, actor="alice"),
        lambda: registry.approve("bert@3", role="security", actor="alice"),
    ):
        with pytest.raises(RegistryError, match="bert@3 is archived"):
            call()
    registry.archive("bert@3", actor="alice")  # already archived: nothing more happens
    entry = registry.audit()[-1]
    assert (entry.action, entry.subject, entry.payload) == ("archive", "bert@3", {"versions": [3]})


@pytest.mark.usefixtures("three")
def test_an_aliased_version_cannot_be_archived(registry: Registry) -> None:
    registry.set_alias("bert", "production", 2, actor="alice")
    with pytest.raises(RegistryError, match=r"bert@2 is still aliased: production \(version 2\)"):
        registry.archive("bert@2", actor="alice")
    with pytest.raises(RegistryError, match="bert is still aliased"):
        registry.archive("bert", actor="alice")
    assert not registry.get("bert@2").archived
    assert not registry.list_models()[0].archived


@pytest.mark.usefixtures("three")
def test_archiving_a_model_archives_every_version(registry: Registry, admit: Admit) -> None:
    registry.archive("bert@1", actor="alice")
    registry.archive("bert", actor="alice")
    assert registry.audit()[-1].payload == {"versions": [2, 3]}
    assert registry.list_models()[0].archived
    assert all(registry.get(f"bert@{n}").archived for n in (1, 2, 3))
    with pytest.raises(RegistryError, match="model bert is archived"):
        registry.get("bert")
    with pytest.raises(RegistryError, match="model bert is archived: register under another name"):
        admit("bert", b"4")


def test_when_every_version_is_archived_the_name_alone_means_none(registry: Registry, admit: Admit) -> None:
    admit("bert", b"1")
    registry.archive("bert@1", actor="alice")
    with pytest.raises(RegistryError, match="every version of bert is archived"):
        registry.get("bert")
    assert registry.list_models()[0].latest is None


@pytest.mark.usefixtures("three")
def test_tags(registry: Registry) -> None:
    registry.tag("bert@2", "reviewed", actor="alice")
    registry.tag("bert@2", "gpu", actor="alice")
    registry.tag("bert@2", "gpu", actor="alice")  # already there: nothing more happens
    assert registry.get("bert@2").tags == ("gpu", "reviewed")
    registry.untag("bert@2", "gpu", actor="bob")
    assert registry.get("bert@2").tags == ("reviewed",)
    with pytest.raises(RegistryError, match="bert@2 has no tag 'gpu'"):
        registry.untag("bert@2", "gpu", actor="bob")
    with pytest.raises(RegistryInputError, match="bad tag"):
        registry.tag("bert@2", "two words", actor="bob")
    actions = [(e.action, e.payload) for e in registry.audit()[3:]]
    assert actions == [("tag", {"tag": "reviewed"}), ("tag", {"tag": "gpu"}), ("untag", {"tag": "gpu"})]


@pytest.mark.usefixtures("three")
def test_approvals_are_kept_with_role_person_time_and_comment(registry: Registry) -> None:
    first = registry.approve("bert@2", role="security", actor="sam", comment="scanned clean")
    registry.approve("bert@2", role="legal", actor="lee")
    approvals = registry.get("bert@2").approvals
    assert approvals[0] == first
    assert [(a.role, a.actor, a.comment) for a in approvals] == [
        ("security", "sam", "scanned clean"),
        ("legal", "lee", ""),
    ]
    assert all(a.at.tzinfo == UTC for a in approvals)
    assert registry.get("bert@1").approvals == ()
    entry = registry.audit()[-2]
    assert (entry.action, entry.actor, entry.subject) == ("approve", "sam", "bert@2")
    assert entry.payload == {"role": "security", "comment": "scanned clean"}
    with pytest.raises(RegistryInputError, match="bad role"):
        registry.approve("bert@2", role="", actor="lee")


def test_a_rejected_version_takes_no_alias(registry: Registry, admit: Admit) -> None:
    admit("bert", b"1", verdict=Verdict.REJECT)
    with pytest.raises(RegistryError, match="bert@1 was rejected by the gate"):
        registry.set_alias("bert", "production", 1, actor="alice")
    assert registry.get("bert@1").aliases == ()
