"""Registering versions and reading them back: numbering, content addressing, references, lineage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from modelsteward.core import Verdict
from modelsteward.registry import Description, Registry, RegistryError, RegistryInputError
from tests.registry._samples import admission_record, digest_of, fixed, manifest_of
from tests.registry.conftest import Admit


def test_versions_are_numbered_per_model(admit: Admit) -> None:
    assert [admit("bert", bytes([i])).version.number for i in range(3)] == [1, 2, 3]
    assert admit("yolo", b"\x00").version.number == 1


def test_a_version_reads_back_as_registered(registry: Registry) -> None:
    before = datetime.now(UTC)
    manifest = manifest_of(b"weights", b"config")
    record = admission_record(Verdict.REVIEW, ("mit",))
    documents = {"report": digest_of(b"report"), "ml-bom": digest_of(b"bom")}
    registration = registry.register(
        name="org/bert",
        manifest=manifest,
        source="hf://org/bert@main",
        revision="abc123",
        verdict=Verdict.REVIEW,
        describe=fixed(record, documents),
        actor="alice",
    )
    assert registration.new
    version = registry.get("org/bert@1")
    assert version == registration.version
    assert version.ref == "org/bert@1"
    assert version.manifest == manifest
    assert version.manifest_digest == manifest.digest
    assert (version.source, version.revision, version.verdict) == (
        "hf://org/bert@main",
        "abc123",
        Verdict.REVIEW,
    )
    assert version.record == record
    assert version.documents == documents
    assert version.derived_from is None
    assert not version.archived
    assert version.created.tzinfo == UTC
    assert before <= version.created <= datetime.now(UTC) + timedelta(seconds=1)


def test_the_same_content_twice_is_the_same_version(registry: Registry, admit: Admit) -> None:
    first = admit("bert", b"weights")
    again = admit("bert", b"weights", actor="bob")
    assert first.new and not again.new
    assert again.version == first.version
    assert admit("bert", b"other").version.number == 2
    # The same content under another name is another model's version.
    assert admit("bert-copy", b"weights").version.ref == "bert-copy@1"
    actions = [(e.action, e.actor, e.subject) for e in registry.audit()]
    assert actions[:2] == [("admit", "alice", "bert@1"), ("admit.repeat", "bob", "bert@1")]


def test_references_by_name_number_and_alias(registry: Registry, admit: Admit) -> None:
    admit("bert", b"1")
    admit("bert", b"2")
    registry.set_alias("bert", "production", 1, actor="alice")
    assert registry.get("bert").number == 2
    assert registry.get("bert@1").number == 1
    assert registry.get("bert@production").number == 1


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("gpt", "no model named gpt"),
        ("bert@7", "bert has no version 7 \\(the latest is 1\\)"),
        ("bert@staging", "bert has no alias staging"),
    ],
)
def test_unknown_references_are_clear_errors(
    registry: Registry, admit: Admit, ref: str, message: str
) -> None:
    admit("bert", b"1")
    with pytest.raises(RegistryError, match=message):
        registry.get(ref)


@pytest.mark.parametrize(
    "ref", ["", "bert@", "bert@0", "bert@1x", "bert@-1", "@1", "bad name", "bert@prod@1"]
)
def test_malformed_references_are_input_errors(registry: Registry, ref: str) -> None:
    with pytest.raises(RegistryInputError, match="bad"):
        registry.get(ref)


def test_lineage_is_stored_as_the_version_it_resolved_to(registry: Registry, admit: Admit) -> None:
    admit("base", b"1")
    admit("base", b"2")
    registry.set_alias("base", "production", 1, actor="alice")
    child = admit("tuned", b"t", derived_from="base@production").version
    # The alias moves on; the lineage keeps the version it meant at the time.
    registry.set_alias("base", "production", 2, actor="alice")
    assert child.derived_from == "base@1"
    assert registry.get("tuned").derived_from == "base@1"
    assert registry.audit()[-2].payload["derived_from"] == "base@1"


def test_an_unknown_parent_registers_nothing(registry: Registry, admit: Admit) -> None:
    with pytest.raises(RegistryError, match="no model named base"):
        admit("tuned", b"t", derived_from="base@1")
    assert registry.list_models() == []
    assert registry.audit() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "bad name"}, "bad model name 'bad name'"),
        ({"name": "a@b"}, "bad model name 'a@b'"),
        ({"name": "a/../../etc"}, "bad model name 'a/../../etc'"),
        ({"name": "org//bert"}, "bad model name 'org//bert'"),
        ({"name": "org/"}, "bad model name 'org/'"),
        ({"name": "bert\n"}, r"bad model name 'bert\\n'"),
        ({"describe": fixed({}, {"report": "md5:abc"})}, "bad artifact digest 'md5:abc'"),
        ({"describe": fixed({}, {"Report!": digest_of(b"r")})}, "bad document kind 'Report!'"),
        ({"actor": " "}, "every change needs an actor"),
        ({"derived_from": "base@"}, "bad reference 'base@'"),
    ],
)
def test_bad_input_registers_nothing(registry: Registry, change: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "name": "bert",
        "manifest": manifest_of(b"w"),
        "source": "hf://org/bert",
        "revision": None,
        "verdict": Verdict.APPROVE,
        "describe": fixed({}, {}),
        "actor": "alice",
    }
    with pytest.raises(RegistryInputError, match=message):
        registry.register(**{**arguments, **change})  # type: ignore[arg-type]
    assert registry.list_models() == []
    assert registry.audit() == []


def test_list_models_summarises_each_model(registry: Registry, admit: Admit) -> None:
    admit("yolo", b"1", verdict=Verdict.REJECT)
    admit("bert", b"1")
    admit("bert", b"2", verdict=Verdict.REVIEW)
    admit("bert", b"3")
    registry.set_alias("bert", "production", 2, actor="alice")
    registry.set_alias("bert", "canary", 1, actor="alice")
    registry.archive("bert@3", actor="alice")
    bert, yolo = registry.list_models()
    assert (bert.name, bert.versions, bert.latest, bert.verdict) == ("bert", 3, 2, Verdict.REVIEW)
    assert bert.aliases == {"canary": 1, "production": 2}
    assert not bert.archived
    assert bert.created.tzinfo == UTC
    assert (yolo.name, yolo.versions, yolo.latest, yolo.verdict, yolo.aliases) == (
        "yolo",
        1,
        1,
        Verdict.REJECT,
        {},
    )


def test_describe_is_told_the_new_number_and_not_called_for_a_repeat(registry: Registry) -> None:
    calls: list[int] = []

    def describe(number: int) -> Description:
        calls.append(number)
        return Description(record={"version": number}, documents={})

    arguments: dict[str, Any] = {
        "name": "bert",
        "source": "hf://org/bert",
        "revision": None,
        "verdict": Verdict.APPROVE,
        "describe": describe,
        "actor": "alice",
    }
    registry.register(manifest=manifest_of(b"1"), **arguments)
    second = registry.register(manifest=manifest_of(b"2"), **arguments)
    repeat = registry.register(manifest=manifest_of(b"1"), **arguments)
    assert calls == [1, 2]
    assert second.version.record == {"version": 2}
    assert (repeat.new, repeat.version.number) == (False, 1)
