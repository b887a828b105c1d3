"""The candidate diff: licence class and obligations, finding counts per rule, metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from modelsteward.core import Manifest, Verdict
from modelsteward.registry import VersionDiff, VersionInfo
from modelsteward.watch import Change, candidate_diff


def version(number: int, checks: list[dict[str, Any]]) -> VersionInfo:
    return VersionInfo(
        name="m",
        number=number,
        manifest=Manifest(files=(), shard_size=1 << 20),
        manifest_digest="sha256:" + "0" * 64,
        source="hf://org/m@" + "a" * 40,
        revision="a" * 40,
        verdict=Verdict.APPROVE,
        record={"checks": checks},
        documents={},
        derived_from=None,
        created=datetime(2025, 1, 1, tzinfo=UTC),
        archived=False,
    )


def licence(ids: list[str], licence_class: str, obligations: list[str]) -> dict[str, Any]:
    data = {"ids": ids, "class": licence_class, "obligations": [{"id": o, "text": o} for o in obligations]}
    return {"check": "license", "data": data, "findings": []}


def findings(*rules: str) -> dict[str, Any]:
    return {"check": "security", "data": {}, "findings": [{"rule": r} for r in rules]}


def performance(**metrics: float | None) -> dict[str, Any]:
    measured = {name: {"value": value, "low": None, "high": None} for name, value in metrics.items()}
    return {"check": "performance", "data": {"metrics": measured}, "findings": []}


FILES = VersionDiff(
    a="m@1",
    b="m@2",
    added=("tokenizer.json",),
    removed=(),
    changed=("model.safetensors",),
    verdicts=(Verdict.APPROVE, Verdict.REVIEW),
    licenses=(("apache-2.0",), ("cc-by-nc-4.0",)),
)


def test_licence_class_obligations_findings_and_metrics_before_and_after() -> None:
    old = version(
        1,
        [
            licence(["apache-2.0"], "permissive", ["notice"]),
            findings("A-1", "A-1", "B-2"),
            performance(accuracy=0.91),
        ],
    )
    new = version(
        2,
        [
            licence(["cc-by-nc-4.0"], "non-commercial", ["attribution", "non-commercial"]),
            findings("A-1", "C-3"),
            performance(accuracy=0.88, macro_f1=0.8),
        ],
    )
    diff = candidate_diff(old, new, FILES)
    assert diff.license_changed
    assert diff.license_class == ("permissive", "non-commercial")
    assert diff.obligations == (("notice",), ("attribution", "non-commercial"))
    # Only rules whose count changed, with both counts.
    assert diff.findings == (Change("A-1", 2, 1), Change("B-2", 1, 0), Change("C-3", 0, 1))
    assert diff.metrics == (Change("accuracy", 0.91, 0.88), Change("macro_f1", None, 0.8))
    document = diff.to_json()
    assert document["from"] == "m@1" and document["files"]["added"] == ["tokenizer.json"]
    assert document["verdict"] == ["approve", "review"]
    assert document["metrics"][1] == {"name": "macro_f1", "before": None, "after": 0.8}


def test_same_licence_and_no_evaluation_make_an_empty_diff() -> None:
    same = [licence(["mit"], "permissive", ["notice"]), findings("A-1")]
    files = VersionDiff("m@1", "m@2", (), (), (), (Verdict.APPROVE,) * 2, (("mit",), ("mit",)))
    diff = candidate_diff(version(1, same), version(2, same), files)
    assert not diff.license_changed and diff.findings == () and diff.metrics == ()
    # A metric the record has no value for is left out rather than read as zero.
    unmeasured = version(2, [*same, performance(accuracy=None)])
    assert candidate_diff(version(1, same), unmeasured, files).metrics == ()
