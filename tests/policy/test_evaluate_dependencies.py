"""The policy on dependencies: vulnerabilities by severity, and components that could not be audited."""

from __future__ import annotations

import pytest

from modelsteward.core import CheckResult, CheckStatus, Severity, Verdict
from modelsteward.policy import PolicyError, default_policy, evaluate, parse_policy
from tests.policy import results
from tests.policy.results import assessment, finding

APPROVE, REVIEW, REJECT = Verdict.APPROVE, Verdict.REVIEW, Verdict.REJECT


def vulnerable(severity: Severity) -> CheckResult:
    return results.dependencies(finding("DEPENDENCY-VULNERABLE", severity, "(runtime environment)"))


@pytest.mark.parametrize(
    ("severity", "verdict"),
    [
        (Severity.LOW, APPROVE),
        (Severity.MEDIUM, APPROVE),
        (Severity.HIGH, REVIEW),
        (Severity.CRITICAL, REVIEW),
    ],
)
def test_by_default_high_and_critical_vulnerabilities_go_to_review(
    severity: Severity, verdict: Verdict
) -> None:
    decision = evaluate(assessment(vulnerable(severity)), default_policy())
    assert decision.verdict is verdict
    if verdict is REVIEW:
        [reason] = [r for r in decision.reasons if r.check == "dependencies"]
        assert reason.rule == "max_severity.dependencies"
        assert "DEPENDENCY-VULNERABLE" in reason.message and "(runtime environment)" in reason.evidence


def test_a_policy_can_reject_from_a_severity() -> None:
    policy = parse_policy(
        "version: 1\nname: strict\n"
        "max_severity: {dependencies: low}\nreject_severity: {dependencies: critical}\n",
        filename="strict.yaml",
    )
    assert evaluate(assessment(vulnerable(Severity.MEDIUM)), policy).verdict is REVIEW
    decision = evaluate(assessment(vulnerable(Severity.CRITICAL)), policy)
    assert decision.verdict is REJECT
    assert [r.rule for r in decision.reasons if r.verdict is REJECT] == ["reject_severity.dependencies"]


def test_limits_that_contradict_are_refused() -> None:
    with pytest.raises(PolicyError, match=r"reject_severity\.dependencies"):
        parse_policy(
            "version: 1\nname: x\n"
            "max_severity: {dependencies: high}\nreject_severity: {dependencies: medium}\n",
            filename="x.yaml",
        )


@pytest.mark.parametrize(("rule", "verdict"), [("approve", APPROVE), ("review", REVIEW), ("reject", REJECT)])
def test_unaudited_components_follow_the_policy_and_are_always_on_record(rule: str, verdict: Verdict) -> None:
    policy = parse_policy(f"version: 1\nname: x\ndependencies: {{unaudited: {rule}}}\n", filename="x.yaml")
    decision = evaluate(assessment(results.dependencies(audited=False)), policy)
    assert decision.verdict is verdict
    [reason] = [r for r in decision.reasons if r.rule == "dependencies.unaudited"]
    assert reason.verdict is verdict and "advisory database" in reason.message


def test_an_audited_clean_result_says_nothing() -> None:
    decision = evaluate(assessment(results.dependencies()), default_policy())
    assert decision.verdict is APPROVE
    assert not [r for r in decision.reasons if r.check == "dependencies"]


def test_a_result_that_breaks_its_contract_is_reviewed() -> None:
    broken = CheckResult("dependencies", CheckStatus.PASS, data={"components": []})
    decision = evaluate(assessment(broken), default_policy())
    assert decision.verdict is REVIEW
    assert [r.rule for r in decision.reasons if r.verdict is REVIEW] == ["on_check_error"]


def test_the_unaudited_rule_names_its_choices() -> None:
    with pytest.raises(PolicyError, match=r"dependencies\.unaudited"):
        parse_policy("version: 1\nname: x\ndependencies: {unaudited: ignore}\n", filename="x.yaml")
