"""Comparing two versions: files, verdict and licences."""

from __future__ import annotations

from modelsteward.core import Verdict
from modelsteward.registry import Registry
from tests.registry._samples import fixed, manifest_of
from tests.registry.conftest import Admit


def test_files_verdict_and_licences_that_changed(registry: Registry, admit: Admit) -> None:
    admit("bert", b"same", b"old", b"gone")
    admit("bert", b"same", b"new", verdict=Verdict.REVIEW, licenses=("llama3",))
    registry.register(
        name="bert",
        manifest=manifest_of(b"same", b"new", b"gone", b"extra"),
        source="hf://org/bert",
        revision=None,
        verdict=Verdict.APPROVE,
        describe=fixed({}, {}),
        actor="alice",
    )
    diff = registry.diff("bert@1", "bert@2")
    assert (diff.a, diff.b) == ("bert@1", "bert@2")
    assert (diff.added, diff.removed, diff.changed) == ((), ("f2.bin",), ("f1.bin",))
    assert diff.verdicts == (Verdict.APPROVE, Verdict.REVIEW)
    assert diff.licenses == (("apache-2.0",), ("llama3",))
    assert not diff.same_files
    back = registry.diff("bert@2", "bert@3")
    assert (back.added, back.removed, back.changed) == (("f2.bin", "f3.bin"), (), ())
    # A record without a license check has no licences to compare.
    assert back.licenses == (("llama3",), ())


def test_a_version_against_itself_and_across_models(registry: Registry, admit: Admit) -> None:
    admit("base", b"w")
    admit("tuned", b"w", derived_from="base@1")
    registry.set_alias("tuned", "production", 1, actor="alice")
    assert registry.diff("base", "base@1").same_files
    across = registry.diff("base@1", "tuned@production")
    assert (across.a, across.b) == ("base@1", "tuned@1")
    assert across.same_files
