"""Policy files: the schema, every error at its line and column, the default and the example."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import ValidationError

from modelsteward.checks.license import LicenseClass, load_table
from modelsteward.core import Severity
from modelsteward.policy import (
    LICENSE_CLASSES,
    Policy,
    PolicyError,
    default_policy,
    load_policy,
    parse_policy,
    policy_json_schema,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "policy.yaml"
HEAD = "version: 1\nname: acme\n"
EMPTY = "the policy is empty; it needs at least version: 1 and a name"


def errors(text: str) -> list[str]:
    """Every error line for the policy ``text`` in a file named policy.yaml."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, filename="policy.yaml")
    return str(caught.value).splitlines()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "max_severity:\n  security: severe\n",
            "policy.yaml:4:13: max_severity.security must be one of info, low, medium, high, critical, "
            'or null for no limit (got "severe")',
            id="bad-severity",
        ),
        pytest.param(
            "license:\n  allow: permissive\n",
            'policy.yaml:4:10: license.allow must be a list (got "permissive")',
            id="wrong-type",
        ),
        pytest.param(
            "license:\n  allow: [permissive]\n  alow: [mit]\n",
            "policy.yaml:5:3: license.alow is not a policy key (did you mean allow?); "
            "the keys of license are allow, review, deny, unknown, conflict",
            id="unknown-key",
        ),
        pytest.param(
            "colour: blue\n",
            "policy.yaml:3:1: colour is not a policy key; the top-level keys are version, name, description, "
            "require_checks, on_check_error, license, obligations, max_severity, reject_severity, security, "
            "integrity, documentation, dependencies, performance, fairness, promotion",
            id="unknown-top-level-key",
        ),
        pytest.param(
            "license:\n  deny: [mit, non-comercial]\n",
            "policy.yaml:4:15: license.deny[1] is not a licence class; did you mean non-commercial? "
            '(got "non-comercial")',
            id="bad-class",
        ),
        pytest.param(
            "license:\n  deny: [mit, gpl3.0]\n",
            "policy.yaml:4:15: license.deny[1] is not a licence class or an id the licence table knows; "
            'did you mean gpl-3.0? (got "gpl3.0")',
            id="unknown-licence-id",
        ),
        pytest.param(
            "license: {review: [llama3.5]}\n",
            "policy.yaml:3:20: license.review[0] is not a licence class or an id the licence table knows; "
            'did you mean llama3.3? (got "llama3.5")',
            id="unknown-licence-version",
        ),
        pytest.param(
            "license:\n  allow: [acme-eula]\n",
            "policy.yaml:4:11: license.allow[0] must be a licence class (permissive, weak-copyleft, "
            "responsible-ai, vendor-community, strong-copyleft, no-derivatives, non-commercial) or an id the "
            'licence table knows, such as apache-2.0 (got "acme-eula")',
            id="unknown-licence-id-nothing-close",
        ),
        pytest.param(
            "license:\n  allow: [apache-2.0]\n  deny: [Apache License 2.0]\n",
            "policy.yaml:5:10: license.deny[0] must give each class or id one rule: apache-2.0 is also in "
            'license.allow (got "apache-2.0")',
            id="two-rules-by-two-names",
        ),
        pytest.param(
            "license:\n  review: [unknown]\n",
            "policy.yaml:4:12: license.review[0] must not be unknown: an unidentified licence is judged by "
            'license.unknown (got "unknown")',
            id="unknown-is-not-listed",
        ),
        pytest.param(
            "license:\n  allow: [apache-2.0]\n  deny: [Apache-2.0]\n",
            "policy.yaml:5:10: license.deny[0] must give each class or id one rule: apache-2.0 is also in "
            'license.allow (got "apache-2.0")',
            id="two-rules",
        ),
        pytest.param(
            "license:\n  deny: [permissive]\n",
            "policy.yaml:4:10: license.deny[0] must give each class or id one rule: permissive is also in "
            'license.allow by default (got "permissive")',
            id="two-rules-with-a-default",
        ),
        pytest.param(
            "license:\n  unknown: allow\n",
            'policy.yaml:4:12: license.unknown must be one of review, reject (got "allow")',
            id="unknown-never-approves",
        ),
        pytest.param(
            "reject_severity:\n  security: low\n",
            "policy.yaml:4:13: reject_severity.security must be above max_severity.security (low): a finding "
            'cannot be both approved and rejected (got "low")',
            id="reject-not-above-review",
        ),
        pytest.param(
            "max_severity: {security: critical}\n",
            "policy.yaml:3:26: max_severity.security must be below reject_severity.security "
            "(high by default): a finding cannot be both approved and rejected; lower it or set "
            'reject_severity.security (got "critical")',
            id="review-not-below-default-reject",
        ),
        pytest.param(
            "documentation:\n  require: [intended_use, usage]\n",
            "policy.yaml:4:27: documentation.require[1] must be one of intended_use, limitations, "
            'training_data, evaluation (got "usage")',
            id="bad-section",
        ),
        pytest.param(
            "documentation:\n  require_card: yes please\n",
            'policy.yaml:4:17: documentation.require_card must be true or false (got "yes please")',
            id="bad-bool",
        ),
        pytest.param(
            "security:\n  allowed_globals: [os.system]\n",
            "policy.yaml:4:21: security.allowed_globals[0] must be MODULE:NAME, such as mypkg.layers:Block "
            '(got "os.system")',
            id="bad-global",
        ),
        pytest.param(
            "obligations:\n  accept: [Attribution!]\n",
            "policy.yaml:4:12: obligations.accept[0] must be an obligation id: lower-case words joined by "
            'hyphens, such as attribution (got "Attribution!")',
            id="bad-obligation",
        ),
        pytest.param(
            "obligations:\n  accept: [attribution, user-treshold]\n",
            "policy.yaml:4:25: obligations.accept[1] is not an obligation the licence table defines; "
            'did you mean user-threshold? (got "user-treshold")',
            id="unknown-obligation",
        ),
        pytest.param(
            "license:\n  allow: [mit]\n  allow: [isc]\n",
            "policy.yaml:5:3: license.allow is given twice (first on line 4)",
            id="duplicate-key",
        ),
        pytest.param(
            "require_checks: [security, sandbox]\n",
            "policy.yaml:3:28: require_checks[1] must be one of security, integrity, license, documentation, "
            'dependencies, performance, fairness (got "sandbox")',
            id="bad-check",
        ),
        pytest.param(
            "1: 2\n",
            "policy.yaml:3:1: the policy has a key that is not text (got 1)",
            id="key-not-text",
        ),
        pytest.param(
            "description: 2024-01-01\n",
            "policy.yaml:3:14: description must be text (got 2024-01-01)",
            id="date-not-text",
        ),
        pytest.param(
            "integrity: null\n",
            "policy.yaml:3:12: integrity must be a mapping of keys to values (got null)",
            id="null-section",
        ),
    ],
)
def test_each_error_names_its_location_and_what_would_be_right(body: str, expected: str) -> None:
    assert errors(HEAD + body) == [expected]


def test_an_obligation_nothing_is_close_to_gets_the_list_of_those_defined() -> None:
    defined = ", ".join(sorted(load_table().obligations))
    assert errors(HEAD + "obligations: {accept: [coffee]}\n") == [
        "policy.yaml:3:24: obligations.accept[0] is not an obligation the licence table defines; the table "
        f'defines {defined} (got "coffee")'
    ]


def test_licences_are_named_by_their_table_ids_whatever_name_the_policy_gives() -> None:
    policy = parse_policy(
        HEAD + "license: {deny: [GPL-3.0-only, llama-3.1, MIT License, other]}\n", filename="p"
    )
    assert policy.license.deny == ("gpl-3.0", "llama3.1", "mit", "other")
    assert policy.license.rule_for("llama3.1") == "deny"


def test_the_classes_a_policy_lists_are_the_licence_tables() -> None:
    assert {*LICENSE_CLASSES, "unknown"} == {c.value for c in LicenseClass}
    for licence_class in LICENSE_CLASSES:
        assert parse_policy(
            HEAD + f"license: {{allow: [{licence_class}]}}\n", filename="p"
        ).license.allow == (licence_class,)


def test_the_default_obligations_are_the_licence_tables() -> None:
    assert set(default_policy().obligations.accept) <= set(load_table().obligations)


def test_the_head_is_checked_too() -> None:
    assert errors("version: 2\nname: acme corp\n") == [
        "policy.yaml:1:10: version must be 1 (got 2)",
        "policy.yaml:2:7: name must be letters, digits, '.', '_' or '-', starting with a letter or digit "
        '(got "acme corp")',
    ]
    assert errors("license: {}\n") == [
        "policy.yaml:1:1: version is required",
        "policy.yaml:1:1: name is required",
    ]


def test_every_error_is_reported_at_once_in_file_order() -> None:
    found = errors(
        "version: 1\n"
        "name: acme\n"
        "license:\n"
        "  allow: [permisive]\n"
        "max_severity: {security: severe}\n"
        "security:\n"
        "  on_incomplete: ignore\n"
        "extra: 1\n"
    )
    assert [line.split(": ", 1)[0] for line in found] == [
        "policy.yaml:4:11",
        "policy.yaml:5:26",
        "policy.yaml:7:18",
        "policy.yaml:8:1",
    ]


def test_contradictions_are_reported_with_the_field_errors() -> None:
    assert errors(
        "version: 1\n"
        "license:\n"
        "  allow: [permissive]\n"
        "  deny: [permissive]\n"
        "max_severity: {security: medium}\n"
        "reject_severity: {security: low}\n"
    ) == [
        "policy.yaml:1:1: name is required",
        "policy.yaml:4:10: license.deny[0] must give each class or id one rule: permissive is also in "
        'license.allow (got "permissive")',
        "policy.yaml:6:29: reject_severity.security must be above max_severity.security (medium): a finding "
        'cannot be both approved and rejected (got "low")',
    ]


def test_every_contradiction_is_reported_at_its_own_node() -> None:
    found = errors(
        HEAD + "license: {allow: [mit, MIT], review: [mit]}\n"
        "reject_severity: {security: low, integrity: info}\n"
    )
    assert [line.split(": ", 1)[0] for line in found] == [
        "policy.yaml:3:24",
        "policy.yaml:3:39",
        "policy.yaml:4:29",
        "policy.yaml:4:45",
    ]
    assert "mit is also in license.allow" in found[1]
    assert "reject_severity.integrity must be above max_severity.integrity (info)" in found[3]


def test_a_contradiction_involving_an_invalid_field_is_left_to_the_field_error() -> None:
    assert errors(HEAD + "max_severity: {security: severe}\nreject_severity: {security: low}\n") == [
        "policy.yaml:3:26: max_severity.security must be one of info, low, medium, high, critical, "
        'or null for no limit (got "severe")',
    ]


def test_a_policy_built_in_code_is_held_to_the_same_contradictions() -> None:
    with pytest.raises(ValidationError, match=r"must be above max_severity\.security"):
        Policy.model_validate({"version": 1, "name": "acme", "reject_severity": {"security": "low"}})
    with pytest.raises(ValidationError, match=r"permissive is also in license\.allow by default"):
        Policy.model_validate({"version": 1, "name": "acme", "license": {"deny": ["permissive"]}})


def test_no_review_limit_and_a_reject_limit_are_valid_together() -> None:
    policy = parse_policy(
        HEAD + "max_severity: {security: null}\nreject_severity: {security: low}\n", filename="p"
    )
    assert policy.max_severity.limit("security") is None
    assert policy.reject_severity.limit("security") is Severity.LOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "policy.yaml:1:1: the policy is empty; it needs at least version: 1 and a name"),
        (
            "# only a comment\n",
            "policy.yaml:1:1: the policy is empty; it needs at least version: 1 and a name",
        ),
        ("- version: 1\n", "policy.yaml:1:1: the policy must be a mapping of keys to values (got a list)"),
        (
            "version: 1\nname: acme\nlicense:\n  allow: [mit\n",
            "policy.yaml:5:1: YAML syntax error: while parsing a flow sequence: expected ',' or ']', "
            "but got '<stream end>'",
        ),
        (
            "version: 1\nname: acme\n  license: x\n",
            "policy.yaml:3:10: YAML syntax error: mapping values are not allowed here",
        ),
    ],
)
def test_empty_odd_and_broken_files(text: str, expected: str) -> None:
    assert errors(text) == [expected]


def test_load_policy_digests_the_file_bytes(tmp_path: Path) -> None:
    data = (HEAD + "description: Ünïcode is fine\n").encode()
    (tmp_path / "p.yaml").write_bytes(data)
    policy = load_policy(tmp_path / "p.yaml")
    assert policy.name == "acme"
    assert policy.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert parse_policy(data.decode(), filename="p.yaml").digest == policy.digest


def test_load_policy_errors_for_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as missing:
        load_policy(tmp_path / "nope.yaml")
    assert str(missing.value) == f"{tmp_path / 'nope.yaml'}: cannot read: No such file or directory"
    assert missing.value.issues[0].line is None
    (tmp_path / "latin.yaml").write_bytes(b"version: 1\nname: caf\xe9\n")
    with pytest.raises(PolicyError) as latin:
        load_policy(tmp_path / "latin.yaml")
    assert str(latin.value) == f"{tmp_path / 'latin.yaml'}:2:10: the file is not UTF-8 text"


def test_the_default_policy_is_the_documented_one() -> None:
    policy = default_policy()
    assert (policy.version, policy.name) == (1, "default")
    assert policy.require_checks == ("security", "integrity", "license", "documentation")
    assert policy.on_check_error == "review"
    assert (policy.license.allow, policy.license.review, policy.license.deny) == (("permissive",), (), ())
    assert (policy.license.unknown, policy.license.conflict) == ("review", "review")
    assert policy.obligations.accept == ("attribution", "notice")
    assert policy.max_severity.limit("security") is Severity.LOW
    assert policy.max_severity.limit("integrity") is Severity.INFO
    assert policy.max_severity.limit("license") is None
    assert policy.reject_severity.limit("security") is Severity.HIGH
    assert policy.reject_severity.limit("integrity") is Severity.CRITICAL
    assert policy.reject_severity.limit("documentation") is None
    assert (policy.security.on_incomplete, policy.security.allowed_globals) == ("review", ())
    assert policy.integrity.signature == "optional"
    assert policy.documentation.require_card is True
    assert policy.documentation.require == ("intended_use",)
    assert policy.documentation.on_missing == "review"
    assert (policy.performance.minimum, policy.performance.maximum) == ({}, {})
    assert (policy.performance.judge, policy.performance.max_p95_latency_ms) == ("estimate", None)
    assert (policy.performance.unsandboxed, policy.performance.on_fail) == ("review", "review")
    fairness = policy.fairness
    assert fairness.min_demographic_parity_ratio is fairness.max_counterfactual_flip_rate is None
    assert (fairness.association_alpha, fairness.on_fail) == (0.05, "review")
    # Its digest is that of its canonical JSON: it changes exactly when a default does.
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    assert policy.digest == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def test_a_minimal_file_is_the_default_policy_under_its_own_name() -> None:
    minimal = parse_policy(HEAD, filename="policy.yaml")
    assert minimal.model_dump(exclude={"name"}) == default_policy().model_dump(exclude={"name"})


def test_a_section_written_in_part_keeps_the_other_defaults() -> None:
    policy = parse_policy(
        HEAD + "license: {deny: [agpl-3.0]}\nmax_severity: {security: Medium}\n", filename="p"
    )
    assert policy.license.allow == ("permissive",)
    assert policy.license.deny == ("agpl-3.0",)
    assert policy.max_severity.limit("security") is Severity.MEDIUM
    assert policy.max_severity.limit("integrity") is Severity.INFO


def test_licence_ids_are_compared_case_insensitively() -> None:
    policy = parse_policy(HEAD + "license: {allow: [Apache-2.0, permissive]}\n", filename="p")
    assert policy.license.allow == ("apache-2.0", "permissive")
    assert policy.license.rule_for("APACHE-2.0") == "allow"
    assert policy.license.rule_for("mit") is None


def test_a_null_limit_means_no_limit() -> None:
    policy = parse_policy(HEAD + "max_severity: {security: null}\n", filename="p")
    assert policy.max_severity.limit("security") is None


def test_the_policy_is_immutable() -> None:
    policy = default_policy()
    with pytest.raises(ValueError, match="frozen"):
        policy.name = "other"


def test_the_example_policy_loads_and_says_what_it_differs_in() -> None:
    policy = load_policy(EXAMPLE)
    assert policy.name == "acme-default"
    assert policy.license.deny == ("strong-copyleft", "no-derivatives", "agpl-3.0")
    assert "non-commercial" in policy.license.review
    assert policy.documentation.require == ("intended_use", "training_data")
    assert policy.performance.max_p95_latency_ms == 250
    assert policy.required_approvals("production") == ("security", "legal")
    assert policy.fairness.min_demographic_parity_ratio == 0.8
    assert policy.digest == "sha256:" + hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    # Every key is commented: the example is meant to be read before it is copied.
    top_level = [line for line in EXAMPLE.read_text().splitlines() if line and line[0].isalpha()]
    assert {line.split(":")[0] for line in top_level} == set(Policy.model_fields)


def test_the_json_schema_accepts_the_example_and_rejects_what_the_loader_rejects() -> None:
    schema = policy_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    example = yaml.safe_load(EXAMPLE.read_text())
    assert list(validator.iter_errors(example)) == []
    bad = {**example, "max_severity": {"security": "severe"}, "colour": "blue"}
    assert len(list(validator.iter_errors(bad))) == 2
    assert schema["$defs"]["ReviewAbove"]["description"].startswith("Per check, the highest")
    assert "an id rule beats a class rule" in json.dumps(schema).lower()


def test_promotion_says_which_approvals_an_alias_requires() -> None:
    policy = parse_policy(
        HEAD + "promotion:\n  production:\n    approvals: [security, legal]\n  staging: {}\n",
        filename="policy.yaml",
    )
    assert policy.required_approvals("production") == ("security", "legal")
    assert policy.required_approvals("staging") == ()
    assert policy.required_approvals("canary") == ()
    assert default_policy().required_approvals("production") == ()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "promotion:\n  production:\n    approvals: [security, legal, security]\n",
            'policy.yaml:5:34: promotion.production.approvals[2] is listed twice (got "security")',
            id="repeated-domain",
        ),
        pytest.param(
            "promotion:\n  production:\n    aprovals: [security]\n",
            "policy.yaml:5:5: promotion.production.aprovals is not a policy key (did you mean approvals?); "
            "the keys of promotion.production are approvals",
            id="unknown-key",
        ),
        pytest.param(
            "promotion:\n  production:\n    approvals: [no way]\n",
            "policy.yaml:5:17: promotion.production.approvals[0] must be letters, digits, '.', '_' or '-', "
            'starting with a letter (got "no way")',
            id="bad-domain",
        ),
        pytest.param(
            "promotion:\n  production: [security]\n",
            "policy.yaml:4:15: promotion.production must be a mapping of keys to values (got a list)",
            id="not-a-mapping",
        ),
    ],
)
def test_promotion_errors(body: str, expected: str) -> None:
    assert errors(HEAD + body) == [expected]
