"""The performance and fairness rules: bounds on what the evaluation measured, cited in the decision."""

from __future__ import annotations

import pytest

from modelsteward.core import Verdict
from modelsteward.policy import PolicyError, evaluate
from tests.policy import results
from tests.policy.results import assessment
from tests.policy.test_evaluate import held, policy

APPROVE, REVIEW, REJECT = Verdict.APPROVE, Verdict.REVIEW, Verdict.REJECT


def test_a_met_minimum_approves_and_is_cited() -> None:
    decision = evaluate(
        assessment(results.performance()), policy("performance: {minimum: {accuracy: 0.85}}\n")
    )
    assert decision.verdict is APPROVE
    reason = next(r for r in decision.reasons if r.rule == "performance.minimum.accuracy")
    assert reason.verdict is APPROVE
    assert "meets the bound of at least 0.85" in reason.message
    assert "0.9 [0.85, 0.94]" in reason.evidence


def test_a_missed_minimum_goes_to_on_fail() -> None:
    rules = policy("performance: {minimum: {accuracy: 0.95}, on_fail: reject}\n")
    decision = evaluate(assessment(results.performance()), rules)
    assert decision.verdict is REJECT
    [reason] = held(decision)
    assert reason.rule == "performance.minimum.accuracy"
    assert "misses" in reason.message


@pytest.mark.parametrize(("judge", "verdict"), [("estimate", APPROVE), ("interval", REVIEW)])
def test_judged_on_the_interval_the_low_end_must_meet_the_bound(judge: str, verdict: Verdict) -> None:
    rules = policy(f"performance: {{minimum: {{accuracy: 0.88}}, judge: {judge}}}\n")
    assert evaluate(assessment(results.performance()), rules).verdict is verdict


def test_a_maximum_bounds_metrics_where_lower_is_better() -> None:
    measured = results.performance({"ece": (0.04, 0.02, 0.07)})
    assert evaluate(assessment(measured), policy("performance: {maximum: {ece: 0.05}}\n")).verdict is APPROVE
    rules = policy("performance: {maximum: {ece: 0.05}, judge: interval}\n")
    assert evaluate(assessment(measured), rules).verdict is REVIEW


def test_a_bound_on_a_metric_the_task_does_not_measure_is_not_a_pass() -> None:
    rules = policy("performance: {minimum: {recall@5: 0.8}}\n")
    [reason] = held(evaluate(assessment(results.performance()), rules))
    assert reason.rule == "performance.minimum.recall@5"
    assert "was not measured by the classification evaluation" in reason.message
    assert reason.evidence == "measured: accuracy"


def test_latency_above_the_limit_goes_to_review() -> None:
    rules = policy("performance: {max_p95_latency_ms: 10}\n")
    [reason] = held(evaluate(assessment(results.performance(p95_ms=12.0)), rules))
    assert reason.rule == "performance.max_p95_latency_ms"
    assert "12.0 ms is above the limit of 10 ms" in reason.message
    assert evaluate(assessment(results.performance(p95_ms=8.0)), rules).verdict is APPROVE


@pytest.mark.parametrize(
    ("setting", "verdict"), [("approve", APPROVE), ("review", REVIEW), ("reject", REJECT)]
)
def test_an_unsandboxed_evaluation_follows_its_rule(setting: str, verdict: Verdict) -> None:
    rules = policy(f"performance: {{unsandboxed: {setting}}}\n")
    decision = evaluate(assessment(results.performance(isolation="none")), rules)
    assert decision.verdict is verdict
    if verdict is not APPROVE:
        assert held(decision)[0].rule == "performance.unsandboxed"


def test_bounds_without_an_evaluation_leave_the_decision_to_require_checks() -> None:
    rules = policy("performance: {minimum: {accuracy: 0.85}}\n")
    assert evaluate(assessment(), rules).verdict is APPROVE
    required = policy(
        "require_checks: [security, integrity, license, documentation, performance]\n"
        "performance: {minimum: {accuracy: 0.85}}\n"
    )
    [reason] = held(evaluate(assessment(), required))
    assert (reason.rule, reason.check) == ("require_checks", "performance")


def test_an_unknown_metric_is_refused_with_a_suggestion() -> None:
    with pytest.raises(PolicyError, match="did you mean accuracy"):
        policy("performance: {minimum: {acuracy: 0.85}}\n")


# Fairness


def test_group_gaps_beyond_their_limits_are_cited_per_grouping() -> None:
    measured = results.fairness(groups={"sex": (0.19, 0.31, 0.08), "race": (0.05, 0.9, 0.04)})
    rules = policy(
        "fairness:\n  max_demographic_parity_difference: 0.1\n  min_demographic_parity_ratio: 0.8\n"
        "  max_equalized_odds_difference: 0.1\n"
    )
    decision = evaluate(assessment(measured), rules)
    assert decision.verdict is REVIEW
    failing = {r.rule: r for r in held(decision)}
    assert set(failing) == {
        "fairness.max_demographic_parity_difference",
        "fairness.min_demographic_parity_ratio",
    }
    assert failing["fairness.min_demographic_parity_ratio"].evidence == "sex: 0.310"
    assert "1 of 2 groupings" in failing["fairness.max_demographic_parity_difference"].message
    odds = next(r for r in decision.reasons if r.rule == "fairness.max_equalized_odds_difference")
    assert odds.verdict is APPROVE


def test_a_classifier_without_groups_cannot_pass_a_group_limit() -> None:
    rules = policy("fairness: {min_demographic_parity_ratio: 0.8}\n")
    [reason] = held(evaluate(assessment(results.fairness(flips={"pronouns": 0.0})), rules))
    assert "was not measured" in reason.message
    # An embedding model has no groups to judge: the limit does not apply to it.
    embedding = results.fairness("retrieval", associations={"weat1": (0.3, 0.2)})
    assert evaluate(assessment(embedding), rules).verdict is APPROVE


def test_only_significant_associations_above_the_limit_count() -> None:
    rules = policy("fairness: {max_association_effect_size: 0.8, on_fail: reject}\n")
    weak = results.fairness("retrieval", associations={"weat1": (1.2, 0.3), "weat2": (0.5, 0.001)})
    assert evaluate(assessment(weak), rules).verdict is APPROVE
    strong = results.fairness("retrieval", associations={"weat6": (-1.1, 0.01)})
    [reason] = held(evaluate(assessment(strong), rules))
    assert reason.verdict is REJECT
    assert "weat6: d=-1.10" in reason.evidence


def test_counterfactual_flips_above_the_limit_go_to_review() -> None:
    rules = policy("fairness: {max_counterfactual_flip_rate: 0.05}\n")
    flips = results.fairness("generation", flips={"pronouns": 0.2, "names": 0.0})
    [reason] = held(evaluate(assessment(flips), rules))
    assert reason.rule == "fairness.max_counterfactual_flip_rate"
    assert reason.evidence == "pronouns: 0.200"


def test_a_fraction_limit_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"fairness\.min_demographic_parity_ratio"):
        policy("fairness: {min_demographic_parity_ratio: 1.5}\n")


def test_an_undefined_metric_fails_only_its_own_bound() -> None:
    measured = results.performance({"accuracy": (0.9, 0.85, 0.94), "roc_auc": (None, None, None)})
    rules = policy("performance: {minimum: {accuracy: 0.8, roc_auc: 0.7}}\n")
    decision = evaluate(assessment(measured), rules)
    [reason] = held(decision)
    assert reason.rule == "performance.minimum.roc_auc"
    assert "undefined on this data" in reason.message
    assert next(r for r in decision.reasons if r.rule == "performance.minimum.accuracy").verdict is APPROVE
