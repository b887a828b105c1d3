"""Evaluations recorded against registered versions, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from modelsteward.registry import Registry, RegistryError
from tests.registry._samples import register_sample

RECORD = {"task": "classification", "metrics": {"accuracy": {"value": 0.9, "low": 0.85, "high": 0.94}}}


def test_an_evaluation_is_kept_with_its_version_and_audited(registry: Registry) -> None:
    register_sample(registry, "bert", b"weights")
    register_sample(registry, "bert", b"other weights")
    kept = registry.record_evaluation(
        "bert@1", task="classification", dataset_digest="sha256:" + "a" * 64, record=RECORD, actor="alice"
    )
    registry.record_evaluation(
        "bert@1", task="regression", dataset_digest="sha256:" + "b" * 64, record={}, actor="bob"
    )
    found = registry.evaluations("bert@1")
    assert [(e.task, e.actor) for e in found] == [("classification", "alice"), ("regression", "bob")]
    assert found[0].record == RECORD
    assert found[0].ref == kept.ref == "bert@1"
    assert registry.evaluations("bert@2") == []
    entry = registry.audit()[-2]
    assert (entry.action, entry.subject, entry.payload["task"]) == ("evaluate", "bert@1", "classification")
    assert registry.verify_audit().ok


def test_evaluating_an_unknown_version_keeps_nothing(registry: Registry) -> None:
    register_sample(registry, "bert", b"weights")
    with pytest.raises(RegistryError, match="no version 7"):
        registry.record_evaluation("bert@7", task="x", dataset_digest="sha256:", record={}, actor="alice")
    assert [e.action for e in registry.audit()] == ["admit"]
