"""The decision: a policy applied to an assessment, one reason per rule that holds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from modelsteward.core import Assessment, CheckResult, CheckStatus, Decision, Finding, Reason, Verdict
from modelsteward.policy._contracts import (
    DependenciesData,
    DocumentationData,
    FairnessData,
    IntegrityData,
    LicenseData,
    PerformanceData,
    SecurityData,
)
from modelsteward.policy._model import FairnessRules, PerformanceRules, Policy

# Evidence lists at most this many items, then says how many more there are.
_SHOWN = 5
_VERDICT_OF = {"allow": Verdict.APPROVE, "review": Verdict.REVIEW, "deny": Verdict.REJECT}


def evaluate(assessment: Assessment, policy: Policy) -> Decision:
    """Apply ``policy`` to ``assessment``: the strictest reason decides, approve when none holds.

    Reasons come strictest first; approvals that name a rule (an allowed licence, an accepted
    obligation) are kept as reasons too, so the record shows why a model was let through.
    """
    reasons = [*_check_states(assessment, policy)]
    for result in assessment.results:
        reasons += _findings(result, policy)
        reasons += _facts(result, policy)
    reasons.sort(key=lambda reason: -reason.verdict.rank)
    verdict = reasons[0].verdict if reasons else Verdict.APPROVE
    return Decision(verdict=verdict, reasons=tuple(reasons))


def _check_states(assessment: Assessment, policy: Policy) -> Iterator[Reason]:
    """A required check that did not run, and any check that could not finish."""
    for check in policy.require_checks:
        result = assessment.get(check)
        if result is None or result.status is CheckStatus.SKIPPED:
            yield Reason(
                Verdict.REVIEW,
                "require_checks",
                check,
                f"the {check} check did not run, so the policy cannot judge it",
                result.summary if result is not None else "no result",
            )
    for result in assessment.results:
        if result.status is CheckStatus.ERROR:
            yield Reason(
                Verdict(policy.on_check_error),
                "on_check_error",
                result.check,
                f"the {result.check} check could not finish",
                result.summary,
            )


def _findings(result: CheckResult, policy: Policy) -> Iterator[Reason]:
    """Findings above the check's severity limits: one reason per finding rule and verdict."""
    review_above = policy.max_severity.limit(result.check)
    reject_from = policy.reject_severity.limit(result.check)
    # (verdict, policy rule, bound, finding rule) -> the findings it holds for
    groups: dict[tuple[Verdict, str, str, str], list[Finding]] = {}
    for finding in result.findings:
        if reject_from is not None and finding.severity >= reject_from:
            key = (Verdict.REJECT, f"reject_severity.{result.check}", f"at or above {reject_from.label}")
        elif review_above is not None and finding.severity > review_above:
            key = (Verdict.REVIEW, f"max_severity.{result.check}", f"above {review_above.label}")
        else:
            continue
        groups.setdefault((*key, finding.rule), []).append(finding)
    for (verdict, limit, bound, rule), found in groups.items():
        worst = max(f.severity for f in found)
        count = f"{len(found)} findings" if len(found) > 1 else "a finding"
        yield Reason(
            verdict,
            limit,
            result.check,
            f"{count} of {rule} ({worst.label}, {bound}): {found[0].message}",
            _listing(_where(f) for f in found),
        )


def _facts(result: CheckResult, policy: Policy) -> Iterator[Reason]:
    """The rules that judge what a check established (its ``data``), by check."""
    judge = _JUDGES.get(result.check)
    if judge is None or result.status in (CheckStatus.ERROR, CheckStatus.SKIPPED):
        return
    contract, rules = judge
    try:
        data = contract.model_validate(dict(result.data))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        yield Reason(
            Verdict(policy.on_check_error),
            "on_check_error",
            result.check,
            f"the {result.check} check's data does not follow its contract, so the policy cannot judge it",
            f"{where}: {first['msg']}",
        )
        return
    yield from rules(data, result, policy)


def _security(data: SecurityData, result: CheckResult, policy: Policy) -> Iterator[Reason]:
    if data.incomplete:
        count = f"{len(data.incomplete)} files" if len(data.incomplete) > 1 else "a file"
        yield Reason(
            Verdict(policy.security.on_incomplete),
            "security.on_incomplete",
            result.check,
            f"{count} could not be fully scanned; what was not read is not known to be safe",
            _listing(f"{item.path}: {', '.join(item.reasons)}" for item in data.incomplete),
        )


def _integrity(data: IntegrityData, result: CheckResult, policy: Policy) -> Iterator[Reason]:
    signature = data.upstream_signature
    level = policy.integrity.signature
    evidence = f"{signature.path}: {signature.detail}" if signature.path else signature.detail
    verdict, message = {
        "mismatch": (Verdict.REJECT, "the publisher's signature does not match the files: they were changed"),
        "invalid": (Verdict.REVIEW, "the publisher's signature cannot be read"),
        "absent": (
            Verdict.REVIEW if level != "optional" else Verdict.APPROVE,
            f"the model has no publisher's signature, and the policy asks for a {level} one",
        ),
        "unverified": (
            Verdict.REVIEW if level == "verified" else Verdict.APPROVE,
            "the publisher's signature matches the files, but its signer cannot be verified",
        ),
        "verified": (Verdict.APPROVE, ""),
    }[signature.status]
    if verdict is not Verdict.APPROVE:
        yield Reason(verdict, "integrity.signature", result.check, message, evidence)


def _license(data: LicenseData, result: CheckResult, policy: Policy) -> Iterator[Reason]:
    rules = policy.license
    found = _listing(f"{item.id} ({item.where})" for item in data.licenses) or "no licence found"
    if data.conflict:
        yield Reason(
            Verdict(rules.conflict),
            "license.conflict",
            result.check,
            "the model's card and files declare different licences",
            data.conflict_detail or found,
        )
    unknown = not data.known or data.license_class == "unknown"
    if unknown:
        yield Reason(Verdict(rules.unknown), "license.unknown", result.check, "the licence is unknown", found)
    # An id rule beats a class rule; the class judges whatever ids no rule names.
    unnamed = False
    for licence_id in data.ids:
        listed = rules.rule_for(licence_id)
        if listed is None:
            unnamed = True
            continue
        yield Reason(
            _VERDICT_OF[listed],
            f"license.{listed}",
            result.check,
            f"licence {licence_id} is listed in license.{listed}",
            _where_declared(licence_id, data),
        )
    if (unnamed or not data.ids) and not unknown:
        yield _class_reason(data, result.check, rules.rule_for(data.license_class))
    for obligation in data.obligations:
        accepted = obligation.id in policy.obligations.accept
        yield Reason(
            Verdict.APPROVE if accepted else Verdict.REVIEW,
            "obligations.accept",
            result.check,
            f"obligation {obligation.id} is {'accepted' if accepted else 'not in obligations.accept'}",
            obligation.text,
        )


def _class_reason(data: LicenseData, check: str, listed: Literal["allow", "review", "deny"] | None) -> Reason:
    licences = ", ".join(data.ids)
    if listed is None:
        return Reason(
            Verdict.REVIEW,
            "license.review",
            check,
            f"licence class {data.license_class} is in none of license.allow, license.review, license.deny",
            licences,
        )
    return Reason(
        _VERDICT_OF[listed],
        f"license.{listed}",
        check,
        f"licence class {data.license_class} is listed in license.{listed}",
        licences,
    )


def _documentation(data: DocumentationData, result: CheckResult, policy: Policy) -> Iterator[Reason]:
    rules = policy.documentation
    verdict = Verdict(rules.on_missing)
    if data.card is None and rules.require_card:
        # Every section is missing with the card: one reason says it.
        message = "the model has no model card"
        yield Reason(verdict, "documentation.require_card", result.check, message, "no README.md")
        return
    details = {f.location: f.message for f in result.findings if f.rule == "DOC-SECTION-MISSING"}
    for section in rules.require:
        if not data.sections.get(section, False):
            name = section.replace("_", " ")
            yield Reason(
                verdict,
                "documentation.require",
                result.check,
                f"the model card does not document the {name}",
                details.get(section, f"{data.card or 'no model card'}: no {name} section"),
            )


def _dependencies(data: DependenciesData, result: CheckResult, policy: Policy) -> Iterator[Reason]:
    # Kept as a reason even when it approves, so the record says the audit is still owed.
    if not data.audited:
        yield Reason(
            Verdict(policy.dependencies.unaudited),
            "dependencies.unaudited",
            result.check,
            "no advisory database was synced, so the components were not audited for known vulnerabilities",
            result.summary,
        )


def _performance(data: PerformanceData, result: CheckResult, policy: Policy) -> Iterator[Reason]:
    rules = policy.performance
    if data.isolation == "none":
        yield Reason(
            Verdict(rules.unsandboxed),
            "performance.unsandboxed",
            result.check,
            "the model was evaluated without a sandbox: its code ran with the user's rights",
            "evaluated with --no-sandbox",
        )
    for metric, bound in rules.minimum.items():
        yield _bound(data, rules, result.check, metric, bound, at_least=True)
    for metric, bound in rules.maximum.items():
        yield _bound(data, rules, result.check, metric, bound, at_least=False)
    limit = rules.max_p95_latency_ms
    if limit is not None:
        p95 = data.efficiency.latency_ms.p95
        met = p95 <= limit
        yield Reason(
            Verdict.APPROVE if met else Verdict(rules.on_fail),
            "performance.max_p95_latency_ms",
            result.check,
            f"p95 latency {p95:.1f} ms is {'within' if met else 'above'} the limit of {limit:g} ms",
            f"batches of {data.efficiency.batch_size}, p50 {data.efficiency.latency_ms.p50:.1f} ms, "
            f"p99 {data.efficiency.latency_ms.p99:.1f} ms",
        )


def _bound(
    data: PerformanceData, rules: PerformanceRules, check: str, metric: str, bound: float, *, at_least: bool
) -> Reason:
    """The reason one metric bound gives: approve when met, ``on_fail`` when not or when not measured."""
    rule = f"performance.{'minimum' if at_least else 'maximum'}.{metric}"
    estimate = data.metrics.get(metric)
    if estimate is None:
        measured = ", ".join(sorted(data.metrics)) or "none"
        return Reason(
            Verdict(rules.on_fail),
            rule,
            check,
            f"{metric} was not measured by the {data.task} evaluation, so its bound cannot be judged",
            f"measured: {measured}",
        )
    evidence = (
        f"{metric} {_shown(estimate.value)} [{_shown(estimate.low)}, {_shown(estimate.high)}] on {data.task}"
    )
    # Judged on the interval, the end that is least favourable to the model must meet the bound.
    judged = estimate.value if rules.judge == "estimate" else (estimate.low if at_least else estimate.high)
    if judged is None:
        message = f"{metric} is undefined on this data, so its bound cannot be judged"
        return Reason(Verdict(rules.on_fail), rule, check, message, evidence)
    met = judged >= bound if at_least else judged <= bound
    side = "at least" if at_least else "at most"
    what = "" if rules.judge == "estimate" else "the confidence interval of "
    return Reason(
        Verdict.APPROVE if met else Verdict(rules.on_fail),
        rule,
        check,
        f"{what}{metric} {'meets' if met else 'misses'} the bound of {side} {bound:g}",
        evidence,
    )


def _shown(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4g}"


def _fairness(data: FairnessData, result: CheckResult, policy: Policy) -> Iterator[Reason]:
    rules = policy.fairness
    fail = Verdict(rules.on_fail)
    group_limits = (
        (
            "max_demographic_parity_difference",
            "demographic_parity_difference",
            rules.max_demographic_parity_difference,
        ),
        ("max_equalized_odds_difference", "equalized_odds_difference", rules.max_equalized_odds_difference),
        ("min_demographic_parity_ratio", "demographic_parity_ratio", rules.min_demographic_parity_ratio),
    )
    for rule, field, limit in group_limits:
        if limit is None:
            continue
        gaps = [(gap.feature, getattr(gap, field)) for gap in data.groups]
        judged = [(feature, value) for feature, value in gaps if value is not None]
        if not judged:
            if data.task == "classification":
                yield _unmeasured(rules, rule, result.check, field.replace("_", " "), "sensitive columns")
            continue
        at_least = rule.startswith("min_")
        failing = [(f, v) for f, v in judged if (v < limit if at_least else v > limit)]
        listing = _listing(f"{f}: {v:.3f}" for f, v in (failing or judged))
        name = field.replace("_", " ")
        yield Reason(
            fail if failing else Verdict.APPROVE,
            f"fairness.{rule}",
            result.check,
            f"{name} {'is beyond' if failing else 'is within'} the limit of {limit:g}"
            + (f" for {len(failing)} of {len(judged)} groupings" if failing else ""),
            listing,
        )
    yield from _associations(data, rules, result.check)
    if rules.max_counterfactual_flip_rate is not None:
        limit = rules.max_counterfactual_flip_rate
        rates = [(c.family, c.flip_rate) for c in data.counterfactual if c.flip_rate is not None]
        if not rates:
            if data.task in ("classification", "generation"):
                yield _unmeasured(
                    rules, "max_counterfactual_flip_rate", result.check, "counterfactual flip rate", "texts"
                )
        else:
            failing = [(f, r) for f, r in rates if r > limit]
            yield Reason(
                fail if failing else Verdict.APPROVE,
                "fairness.max_counterfactual_flip_rate",
                result.check,
                f"swapping identity terms changes the output {'too often' if failing else 'rarely enough'} "
                f"(limit {limit:g})",
                _listing(f"{f}: {r:.3f}" for f, r in (failing or rates)),
            )


def _associations(data: FairnessData, rules: FairnessRules, check: str) -> Iterator[Reason]:
    limit = rules.max_association_effect_size
    if limit is None:
        return
    if not data.associations:
        if data.task == "retrieval":
            yield _unmeasured(
                rules, "max_association_effect_size", check, "association effect size", "word sets"
            )
        return
    biased = [
        a for a in data.associations if a.p_value < rules.association_alpha and abs(a.effect_size) > limit
    ]
    shown = biased or list(data.associations)
    yield Reason(
        Verdict(rules.on_fail) if biased else Verdict.APPROVE,
        "fairness.max_association_effect_size",
        check,
        f"{len(biased)} of {len(data.associations)} association tests show a significant effect "
        f"above {limit:g}"
        if biased
        else f"no association test shows a significant effect above {limit:g}",
        _listing(f"{a.test}: d={a.effect_size:.2f}, p={a.p_value:.3g}" for a in shown),
    )


def _unmeasured(rules: FairnessRules, rule: str, check: str, what: str, needs: str) -> Reason:
    return Reason(
        Verdict(rules.on_fail),
        f"fairness.{rule}",
        check,
        f"the {what} was not measured, so its limit cannot be judged",
        f"it needs {needs}",
    )


# Each judge takes the data of its own contract model, which Any stands for here.
Judge = Callable[[Any, CheckResult, Policy], Iterator[Reason]]
_JUDGES: dict[str, tuple[type[BaseModel], Judge]] = {
    "security": (SecurityData, _security),
    "integrity": (IntegrityData, _integrity),
    "license": (LicenseData, _license),
    "documentation": (DocumentationData, _documentation),
    "dependencies": (DependenciesData, _dependencies),
    "performance": (PerformanceData, _performance),
    "fairness": (FairnessData, _fairness),
}


def _where(finding: Finding) -> str:
    text = f"{finding.path} at {finding.location}" if finding.location else finding.path
    return f"{text}: {finding.evidence}" if finding.evidence else text


def _where_declared(licence_id: str, data: LicenseData) -> str:
    places = [item.where for item in data.licenses if item.id.lower() == licence_id.lower()]
    return f"{licence_id} ({', '.join(places)})" if places else licence_id


def _listing(items: Iterable[str]) -> str:
    """Up to five items joined by ``; ``, then how many more."""
    shown = list(items)
    more = len(shown) - _SHOWN
    return "; ".join(shown[:_SHOWN]) + (f"; and {more} more" if more > 0 else "")
