"""The decision: every policy rule, with the verdict it gives and the evidence it names."""

from __future__ import annotations

import pytest

from modelsteward.core import CheckResult, CheckStatus, Decision, Reason, Severity, Verdict
from modelsteward.policy import LICENSE_CLASSES, Policy, default_policy, evaluate, parse_policy
from tests.policy import results
from tests.policy.results import assessment, finding

APPROVE, REVIEW, REJECT = Verdict.APPROVE, Verdict.REVIEW, Verdict.REJECT


def policy(body: str = "") -> Policy:
    """A policy file with ``body`` after its version and name."""
    return parse_policy(f"version: 1\nname: test\n{body}", filename="test.yaml")


def held(decision: Decision, verdict: Verdict | None = None) -> list[Reason]:
    """The reasons of ``decision`` that do not approve (or that give ``verdict``)."""
    if verdict is None:
        return [r for r in decision.reasons if r.verdict is not APPROVE]
    return [r for r in decision.reasons if r.verdict is verdict]


def test_a_clean_assessment_is_approved_with_the_rules_that_let_it_through() -> None:
    decision = evaluate(assessment(), default_policy())
    assert decision.verdict is APPROVE
    assert held(decision) == []
    rules = {(r.rule, r.check) for r in decision.reasons}
    assert rules == {("license.allow", "license"), ("obligations.accept", "license")}
    allow = next(r for r in decision.reasons if r.rule == "license.allow")
    assert "permissive" in allow.message and "apache-2.0" in allow.evidence


# Licence classes


@pytest.mark.parametrize("licence_class", LICENSE_CLASSES)
@pytest.mark.parametrize(("listed", "verdict"), [("allow", APPROVE), ("review", REVIEW), ("deny", REJECT)])
def test_each_class_follows_the_list_it_is_in(licence_class: str, listed: str, verdict: Verdict) -> None:
    lists = {"allow": "", listed: licence_class}
    rules = policy("license: {" + ", ".join(f"{key}: [{value}]" for key, value in lists.items()) + "}\n")
    decision = evaluate(assessment(results.license_(licence_class, ("some-id",), obligations=())), rules)
    assert decision.verdict is verdict
    reason = next(r for r in decision.reasons if r.check == "license")
    assert reason.rule == f"license.{listed}"
    assert licence_class in reason.message and reason.evidence == "some-id"


def test_a_class_listed_nowhere_goes_to_review() -> None:
    decision = evaluate(assessment(results.license_("weak-copyleft", ("mpl-2.0",), obligations=())), policy())
    assert decision.verdict is REVIEW
    [reason] = held(decision)
    assert reason.rule == "license.review"
    assert "none of license.allow, license.review, license.deny" in reason.message


def test_an_id_rule_beats_its_class_rule_both_ways() -> None:
    denied_id = policy("license: {allow: [permissive], deny: [apache-2.0]}\n")
    allowed_id = policy("license: {allow: [CC-BY-NC-4.0], deny: [non-commercial]}\n")
    by_id = evaluate(assessment(), denied_id)
    assert by_id.verdict is REJECT
    [reason] = held(by_id)
    assert reason.rule == "license.deny"
    assert reason.evidence == "apache-2.0 (README.md metadata `license`)"
    nc = results.license_("non-commercial", ("cc-by-nc-4.0",), obligations=())
    assert evaluate(assessment(nc), allowed_id).verdict is APPROVE


def test_the_class_judges_the_ids_no_rule_names() -> None:
    rules = policy("license: {allow: [mit], deny: [non-commercial]}\n")
    both = results.license_("non-commercial", ("mit", "cc-by-nc-4.0"), obligations=())
    decision = evaluate(assessment(both), rules)
    assert decision.verdict is REJECT
    assert [r.rule for r in decision.reasons] == ["license.deny", "license.allow"]


def test_an_unknown_licence_is_never_approved() -> None:
    unknown = results.license_("unknown", (), known=False, obligations=())
    decision = evaluate(assessment(unknown), default_policy())
    assert decision.verdict is REVIEW
    [reason] = held(decision)
    assert (reason.rule, reason.evidence) == ("license.unknown", "no licence found")
    assert evaluate(assessment(unknown), policy("license: {unknown: reject}\n")).verdict is REJECT


def test_an_unknown_id_beside_a_denied_one_still_rejects() -> None:
    mixed = results.license_("unknown", ("agpl-3.0", "acme-eula"), known=False, obligations=())
    decision = evaluate(assessment(mixed), policy("license: {deny: [agpl-3.0]}\n"))
    assert decision.verdict is REJECT
    assert {r.rule for r in held(decision)} == {"license.deny", "license.unknown"}


def test_a_licence_conflict_is_never_approved_even_when_allowed() -> None:
    conflicting = results.license_(conflict=True)
    decision = evaluate(assessment(conflicting), policy("license: {allow: [permissive, apache-2.0]}\n"))
    assert decision.verdict is REVIEW
    [reason] = held(decision)
    assert reason.rule == "license.conflict"
    assert "LICENSE is apache-2.0" in reason.evidence
    assert evaluate(assessment(conflicting), policy("license: {conflict: reject}\n")).verdict is REJECT


# Obligations


def test_obligations_accepted_approve_and_others_go_to_review() -> None:
    llama = results.license_("permissive", ("mit",), obligations=("attribution", "user-threshold"))
    decision = evaluate(assessment(llama), default_policy())
    assert decision.verdict is REVIEW
    [reason] = held(decision)
    assert reason.rule == "obligations.accept"
    assert "user-threshold" in reason.message and reason.evidence == "the user-threshold obligation"
    accepted = [r for r in decision.reasons if r.rule == "obligations.accept" and r.verdict is APPROVE]
    assert [r.evidence for r in accepted] == ["the attribution obligation"]
    widened = policy("obligations: {accept: [attribution, user-threshold]}\n")
    assert evaluate(assessment(llama), widened).verdict is APPROVE


# Finding severities


@pytest.mark.parametrize(
    ("check", "severity", "verdict", "rule"),
    [
        ("security", Severity.LOW, APPROVE, None),
        ("security", Severity.MEDIUM, REVIEW, "max_severity.security"),
        ("security", Severity.HIGH, REJECT, "reject_severity.security"),
        ("security", Severity.CRITICAL, REJECT, "reject_severity.security"),
        ("integrity", Severity.INFO, APPROVE, None),
        ("integrity", Severity.HIGH, REVIEW, "max_severity.integrity"),
        ("integrity", Severity.CRITICAL, REJECT, "reject_severity.integrity"),
        ("license", Severity.HIGH, APPROVE, None),
        ("documentation", Severity.CRITICAL, APPROVE, None),
    ],
)
def test_default_severity_limits_per_check(
    check: str, severity: Severity, verdict: Verdict, rule: str | None
) -> None:
    result = CheckResult(check, CheckStatus.WARN, (finding("X-RULE", severity),), _clean_data(check))
    decision = evaluate(assessment(result), default_policy())
    assert decision.verdict is verdict
    assert [r.rule for r in held(decision)] == ([rule] if rule else [])


def test_severity_limits_are_set_per_check() -> None:
    rules = policy(
        "max_severity: {security: high, license: info, documentation: low}\n"
        "reject_severity: {security: critical, documentation: high}\n"
    )
    cases = [
        ("security", Severity.HIGH, APPROVE),
        ("security", Severity.CRITICAL, REJECT),
        ("license", Severity.LOW, REVIEW),
        ("license", Severity.CRITICAL, REVIEW),
        ("documentation", Severity.MEDIUM, REVIEW),
        ("documentation", Severity.HIGH, REJECT),
    ]
    for check, severity, verdict in cases:
        result = CheckResult(check, CheckStatus.WARN, (finding("X-RULE", severity),), _clean_data(check))
        assert evaluate(assessment(result), rules).verdict is verdict, (check, severity)


def test_with_no_review_limit_findings_below_the_reject_limit_approve_and_the_others_reject() -> None:
    rules = policy("max_severity: {security: null}\nreject_severity: {security: low}\n")
    cases = [(Severity.INFO, APPROVE, []), (Severity.LOW, REJECT, ["reject_severity.security"])]
    for severity, verdict, reasons in cases:
        decision = evaluate(assessment(results.security(finding("X-RULE", severity))), rules)
        assert decision.verdict is verdict, severity
        assert [r.rule for r in held(decision)] == reasons, severity


def test_a_finding_reason_names_the_finding_rule_the_file_and_the_evidence() -> None:
    found = [finding("PICKLE-GLOBAL-DENIED", Severity.CRITICAL, f"evil{i}.bin") for i in range(7)]
    decision = evaluate(assessment(results.security(*found)), default_policy())
    [reason] = held(decision)
    assert reason.rule == "reject_severity.security" and reason.check == "security"
    assert reason.message.startswith("7 findings of PICKLE-GLOBAL-DENIED (critical, at or above high)")
    assert reason.evidence.startswith("evil0.bin at @12: posix.system; evil1.bin")
    assert reason.evidence.endswith("; and 2 more")


def test_findings_of_one_rule_at_two_verdicts_give_two_reasons() -> None:
    mixed = results.security(
        finding("CODE-EXEC", Severity.MEDIUM), finding("CODE-EXEC", Severity.HIGH, "setup.py")
    )
    decision = evaluate(assessment(mixed), default_policy())
    assert [(r.verdict, r.rule) for r in decision.reasons if r.check == "security"] == [
        (REJECT, "reject_severity.security"),
        (REVIEW, "max_severity.security"),
    ]


def test_an_incomplete_scan_goes_to_review_or_reject() -> None:
    cut = results.security(incomplete=[{"path": "cut.pkl", "reasons": ["truncated pickle"]}])
    decision = evaluate(assessment(cut), default_policy())
    assert decision.verdict is REVIEW
    [reason] = held(decision)
    assert (reason.rule, reason.evidence) == ("security.on_incomplete", "cut.pkl: truncated pickle")
    assert evaluate(assessment(cut), policy("security: {on_incomplete: reject}\n")).verdict is REJECT


# Integrity


@pytest.mark.parametrize(
    ("level", "status", "verdict"),
    [
        ("optional", "absent", APPROVE),
        ("optional", "unverified", APPROVE),
        ("optional", "invalid", REVIEW),
        ("optional", "mismatch", REJECT),
        ("required", "absent", REVIEW),
        ("required", "unverified", APPROVE),
        ("required", "mismatch", REJECT),
        ("verified", "unverified", REVIEW),
        ("verified", "verified", APPROVE),
        ("verified", "mismatch", REJECT),
    ],
)
def test_upstream_signature_by_level(level: str, status: str, verdict: Verdict) -> None:
    decision = evaluate(assessment(results.integrity(status)), policy(f"integrity: {{signature: {level}}}\n"))
    assert decision.verdict is verdict
    for reason in held(decision):
        assert reason.rule == "integrity.signature"
        assert reason.evidence.endswith(f"signature {status}")


# Documentation


def test_a_missing_card_goes_to_review_once() -> None:
    decision = evaluate(assessment(results.documentation(None)), default_policy())
    assert decision.verdict is REVIEW
    [reason] = held(decision)
    assert (reason.rule, reason.evidence) == ("documentation.require_card", "no README.md")
    assert (
        evaluate(
            assessment(results.documentation(None)), policy("documentation: {on_missing: reject}\n")
        ).verdict
        is REJECT
    )


def test_a_missing_card_is_allowed_when_nothing_is_required() -> None:
    rules = policy("documentation: {require_card: false, require: []}\n")
    assert evaluate(assessment(results.documentation(None)), rules).verdict is APPROVE


def test_required_sections_and_only_those() -> None:
    card = results.documentation("README.md", "limitations", "evaluation")
    assert evaluate(assessment(card), default_policy()).verdict is APPROVE
    decision = evaluate(assessment(card), policy("documentation: {require: [intended_use, limitations]}\n"))
    assert decision.verdict is REVIEW
    [reason] = held(decision)
    assert reason.rule == "documentation.require"
    assert "limitations" in reason.message
    assert reason.evidence == "The model card lacks a section: no limitations"


def test_a_required_section_is_reported_without_a_card_when_the_card_is_optional() -> None:
    rules = policy("documentation: {require_card: false, require: [evaluation]}\n")
    [reason] = held(evaluate(assessment(results.documentation(None)), rules))
    assert reason.rule == "documentation.require"
    assert reason.evidence == "no model card: no evaluation section"


# Checks that did not run or finish


def test_a_required_check_that_did_not_run_goes_to_review() -> None:
    decision = evaluate(assessment(without=("integrity",)), default_policy())
    assert decision.verdict is REVIEW
    [reason] = held(decision)
    assert (reason.rule, reason.check, reason.evidence) == ("require_checks", "integrity", "no result")
    relaxed = policy("require_checks: [security, license, documentation]\n")
    assert evaluate(assessment(without=("integrity",)), relaxed).verdict is APPROVE


def test_a_skipped_check_counts_as_not_run() -> None:
    skipped = CheckResult("documentation", CheckStatus.SKIPPED, summary="no card reader")
    [reason] = held(evaluate(assessment(skipped), default_policy()))
    assert (reason.rule, reason.evidence) == ("require_checks", "no card reader")


def test_a_check_error_goes_to_review_at_least() -> None:
    broken = CheckResult("integrity", CheckStatus.ERROR, summary="signature library failed")
    decision = evaluate(assessment(broken), default_policy())
    assert decision.verdict is REVIEW
    [reason] = held(decision)
    assert (reason.rule, reason.evidence) == ("on_check_error", "signature library failed")
    assert evaluate(assessment(broken), policy("on_check_error: reject\n")).verdict is REJECT


def test_findings_of_a_check_that_errored_still_count() -> None:
    broken = CheckResult(
        "security", CheckStatus.ERROR, (finding("PICKLE-GLOBAL-DENIED", Severity.CRITICAL),), summary="crash"
    )
    decision = evaluate(assessment(broken), default_policy())
    assert decision.verdict is REJECT
    assert {r.rule for r in held(decision)} == {"reject_severity.security", "on_check_error"}


def test_data_that_breaks_its_contract_is_reviewed_not_raised() -> None:
    odd = CheckResult("license", CheckStatus.PASS, data={"class": "permissive", "ids": "apache-2.0"})
    decision = evaluate(assessment(odd), default_policy())
    assert decision.verdict is REVIEW
    [reason] = held(decision)
    assert reason.rule == "on_check_error" and "contract" in reason.message
    assert reason.evidence.startswith("licenses: ")


def test_reasons_come_strictest_first_and_the_strictest_decides() -> None:
    mixed = assessment(
        results.security(finding("PICKLE-GLOBAL-DENIED", Severity.CRITICAL)),
        results.documentation("README.md", "intended_use"),
    )
    decision = evaluate(mixed, default_policy())
    assert decision.verdict is REJECT
    ranks = [r.verdict.rank for r in decision.reasons]
    assert ranks == sorted(ranks, reverse=True)
    assert [r.verdict for r in decision.reasons] == [REJECT, REVIEW, APPROVE, APPROVE]


def _clean_data(check: str) -> dict[str, object]:
    """The data of the clean result of ``check``, so only the added finding is judged."""
    return dict(next(r for r in assessment().results if r.check == check).data)
