"""The admission record: every field, in a stable order, as values json.dumps takes."""

from __future__ import annotations

import json
from types import MappingProxyType

from modelsteward.core import CheckResult, CheckStatus, Verdict
from modelsteward.reports.admission_json import admission_to_json
from tests.reports.admission_fixture import (
    CREATED,
    PICKLE_FINDING,
    REVISION,
    build_admission,
    manifest_of,
    security_result,
)


def test_top_level_keys_come_in_the_documented_order() -> None:
    record = admission_to_json(build_admission())

    assert list(record) == [
        "name",
        "version",
        "source",
        "revision",
        "policy",
        "created",
        "manifest",
        "decision",
        "checks",
        "derived_from",
    ]


def test_identity_and_manifest_summary() -> None:
    manifest = manifest_of({"a": b"abc", "b": b"de"})
    admission = build_admission(files={"a": b"abc", "b": b"de"}, derived_from="base-encoder@2")

    record = admission_to_json(admission)

    assert record["name"] == "acme-encoder"
    assert record["version"] == 3
    assert record["source"] == f"hf://acme/encoder@{REVISION}"
    assert record["revision"] == REVISION
    assert record["created"] == CREATED.isoformat()
    assert record["manifest"] == {"digest": manifest.digest, "files": 2, "bytes": 5}
    assert record["derived_from"] == "base-encoder@2"


def test_decision_lists_every_reason_with_its_rule_and_evidence() -> None:
    record = admission_to_json(build_admission())

    assert record["decision"]["verdict"] == "reject"
    first = record["decision"]["reasons"][0]
    assert first == {
        "verdict": "reject",
        "rule": "max_severity.security",
        "check": "security",
        "message": "A critical finding exceeds the highest severity allowed (medium).",
        "evidence": "PICKLE-GLOBAL-DENIED in pytorch_model.bin",
    }
    assert [r["verdict"] for r in record["decision"]["reasons"]] == ["reject", "review"]


def test_checks_keep_their_order_findings_and_data() -> None:
    record = admission_to_json(build_admission())

    assert [c["check"] for c in record["checks"]] == ["security", "integrity", "license", "documentation"]
    security = record["checks"][0]
    assert list(security) == ["check", "status", "summary", "findings", "data"]
    assert security["status"] == "fail"
    assert security["findings"][0] == {
        "rule": PICKLE_FINDING.rule,
        "severity": "critical",
        "message": PICKLE_FINDING.message,
        "path": "pytorch_model.bin",
        "location": "archive/data.pkl > offset 42",
        "evidence": "os.system",
    }
    assert security["data"]["highest"] == "critical"
    assert record["checks"][2]["data"]["obligations"] == [
        {"id": "notice", "text": "Keep the NOTICE file with every copy."}
    ]


def test_read_only_mappings_and_tuples_in_check_data_become_json() -> None:
    odd = CheckResult(
        check="performance",
        status=CheckStatus.SKIPPED,
        data=MappingProxyType({"metrics": MappingProxyType({"accuracy": 0.91}), "slices": ("en", "de")}),
    )
    admission = build_admission(results=(security_result(), odd), verdict=Verdict.APPROVE, reasons=())

    record = admission_to_json(admission)

    assert record["checks"][1]["data"] == {"metrics": {"accuracy": 0.91}, "slices": ["en", "de"]}
    assert json.loads(json.dumps(record)) == record


def test_an_unregistered_local_admission_has_nulls_not_missing_keys() -> None:
    admission = build_admission(version=None, source="/models/acme", revision=None)

    record = admission_to_json(admission)

    assert record["version"] is None
    assert record["revision"] is None
    assert record["derived_from"] is None
    assert json.dumps(record, sort_keys=False).startswith('{"name": "acme-encoder", "version": null')
