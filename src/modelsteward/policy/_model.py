"""The policy file's schema: what an enterprise approves, sends to review and rejects.

Every field has a default, and the defaults are the built-in policy (:func:`default_policy`): a
policy file states only where it differs. A section written in part keeps the defaults of the
fields it leaves out.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    StrictBool,
    StrictStr,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from modelsteward.checks.documentation import Section
from modelsteward.checks.license import LicenseClass, LicenseTable, load_table
from modelsteward.checks.performance.metrics import METRICS
from modelsteward.core import Severity

LICENSE_CLASSES: tuple[str, ...] = tuple(c.value for c in LicenseClass if c is not LicenseClass.UNKNOWN)
"""The licence classes a policy can list (``unknown`` has a rule of its own: ``license.unknown``)."""

CheckName = Literal[
    "security", "integrity", "license", "documentation", "dependencies", "performance", "fairness"
]
"""The checks whose results the policy judges."""
CHECKS: tuple[CheckName, ...] = get_args(CheckName)
FILE_CHECKS: tuple[CheckName, ...] = ("security", "integrity", "license", "documentation")
"""The checks that need only the model's files; performance and fairness need evaluation data."""

Escalation = Literal["review", "reject"]
"""What a rule that never approves does: send the model to a person, or reject it."""

_CONFIG = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,99}")
"""An alias or a reviewer's domain, as the registry spells them."""
_IDENTIFIER_PATH = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_GLOBAL = re.compile(rf"{_IDENTIFIER_PATH}:{_IDENTIFIER_PATH}")


@dataclass(frozen=True, slots=True)
class Contradiction:
    """Two rules of a policy that cannot both hold, each valid on its own."""

    at: tuple[str | int, ...]
    """The path, from the top of the policy, of the rule reported: the later one, or the one written."""
    message: str
    """What is wrong, worded to follow the rule's dotted path."""
    got: str
    """The value at ``at``."""


COLLECTING: Mapping[str, bool] = MappingProxyType({"collect_contradictions": True})
"""The validation context of a caller that finds every contradiction itself, with
:func:`licence_contradictions` and :func:`severity_contradictions` (the loader, which reports them all
with the field errors): the schema's validators then leave them to it instead of raising the first."""


def _raise_first(found: Iterable[Contradiction], info: ValidationInfo, *, within: tuple[str, ...]) -> None:
    """Raise the first contradiction in ``found`` (located relative to ``within``), unless collecting."""
    if info.context is not None and info.context.get("collect_contradictions"):
        return
    first = next(iter(found), None)
    if first is not None:
        raise _invalid(first.message, at=first.at[len(within) :], got=first.got)


def _invalid(message: str, **context: object) -> PydanticCustomError:
    """An error whose message follows the field's dotted path (``license.allow[2] must ...``)."""
    return PydanticCustomError("policy", message, context or None)


def _severity(value: object) -> object:
    if value is None or isinstance(value, Severity):
        return value
    if isinstance(value, str) and value.strip().upper() in Severity.__members__:
        return Severity.parse(value)
    raise _invalid(f"must be one of {', '.join(s.label for s in Severity)}, or null for no limit")


SeverityLimit = Annotated[
    Severity | None,
    BeforeValidator(_severity),
    PlainSerializer(lambda s: None if s is None else s.label),
    WithJsonSchema({"enum": [*(s.label for s in Severity), None]}),
]


def _license_entry(value: str) -> str:
    """A licence class, or the table id of the licence ``value`` names (by id, SPDX id or alias)."""
    entry = value.strip().lower()
    if entry == "unknown":
        raise _invalid("must not be unknown: an unidentified licence is judged by license.unknown")
    if entry in LICENSE_CLASSES:
        return entry
    table = load_table()
    known = table.resolve(entry)
    if known is not None:
        return known.id
    near = difflib.get_close_matches(entry, LICENSE_CLASSES, n=1, cutoff=0.8)
    if near:
        raise _invalid(f"is not a licence class; did you mean {near[0]}?")
    names = _licence_names(table)
    near = difflib.get_close_matches(entry, list(names), n=1)
    if near:
        raise _invalid(
            f"is not a licence class or an id the licence table knows; did you mean {names[near[0]]}?"
        )
    raise _invalid(
        f"must be a licence class ({', '.join(LICENSE_CLASSES)}) or an id the licence table knows, "
        "such as apache-2.0"
    )


def _licence_names(table: LicenseTable) -> dict[str, str]:
    """The names a suggestion can come from, lower case, each with the class or id it stands for: the
    classes and the names of every licence the table can judge."""
    names = {name: name for name in LICENSE_CLASSES}
    for entry in table.values():
        if entry.known:
            for name in (entry.id, entry.spdx, *entry.aliases):
                if name:
                    names.setdefault(name.lower(), entry.id)
    return names


def _obligation(value: str) -> str:
    """An obligation id of the licence table."""
    if not _SLUG.fullmatch(value):
        raise _invalid("must be an obligation id: lower-case words joined by hyphens, such as attribution")
    defined = sorted(load_table().obligations)
    if value in defined:
        return value
    near = difflib.get_close_matches(value, defined, n=1)
    hint = f"did you mean {near[0]}?" if near else f"the table defines {', '.join(defined)}"
    raise _invalid(f"is not an obligation the licence table defines; {hint}")


def _global(value: str) -> str:
    if not _GLOBAL.fullmatch(value):
        raise _invalid("must be MODULE:NAME, such as mypkg.layers:Block")
    return value


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise _invalid("must be letters, digits, '.', '_' or '-', starting with a letter or digit")
    return value


def _alias_like(value: str) -> str:
    if not _ALIAS.fullmatch(value):
        raise _invalid("must be letters, digits, '.', '_' or '-', starting with a letter")
    return value


def _distinct(values: tuple[str, ...]) -> tuple[str, ...]:
    for index, value in enumerate(values):
        if value in values[:index]:
            raise _invalid("is listed twice", at=(index,), got=value)
    return values


LicenseEntry = Annotated[StrictStr, AfterValidator(_license_entry)]
AliasName = Annotated[StrictStr, AfterValidator(_alias_like)]
Domain = Annotated[StrictStr, AfterValidator(_alias_like)]
ObligationId = Annotated[StrictStr, AfterValidator(_obligation)]
GlobalName = Annotated[StrictStr, AfterValidator(_global)]


class LicenseRules(BaseModel):
    """Which licences approve, go to review or reject, by class or by id."""

    model_config = _CONFIG

    allow: tuple[LicenseEntry, ...] = ("permissive",)
    """Licence classes or ids approved. An id is a licence table id, or any name the table knows for
    one (an SPDX id, an alias, in any case), which stands for that id."""
    review: tuple[LicenseEntry, ...] = ()
    """Licence classes or ids a person decides on. A class listed nowhere is reviewed too."""
    deny: tuple[LicenseEntry, ...] = ()
    """Licence classes or ids rejected. An id rule beats a class rule."""
    unknown: Escalation = "review"
    """A licence that could not be identified: never approved."""
    conflict: Escalation = "review"
    """A card and a licence file that name different licences: never approved."""

    @model_validator(mode="after")
    def _one_rule_each(self, info: ValidationInfo) -> LicenseRules:
        _raise_first(licence_contradictions(self), info, within=("license",))
        return self

    def rule_for(self, entry: str) -> Literal["allow", "review", "deny"] | None:
        """The list that names ``entry`` (a class or an id, compared case-insensitively), if any."""
        entry = entry.lower()
        if entry in self.allow:
            return "allow"
        if entry in self.review:
            return "review"
        if entry in self.deny:
            return "deny"
        return None


def licence_contradictions(rules: LicenseRules) -> Iterator[Contradiction]:
    """Each class or id listed again after its first rule, located at the repeat."""
    seen: dict[str, str] = {}
    for key in ("allow", "review", "deny"):
        for index, entry in enumerate(getattr(rules, key)):
            if entry not in seen:
                seen[entry] = key
                continue
            default = "" if seen[entry] in rules.model_fields_set else " by default"
            message = (
                f"must give each class or id one rule: {entry} is also in license.{seen[entry]}{default}"
            )
            yield Contradiction(("license", key, index), message, entry)


class ObligationRules(BaseModel):
    """Licence obligations the enterprise takes on without asking a person."""

    model_config = _CONFIG

    accept: tuple[ObligationId, ...] = ("attribution", "notice")
    """Obligation ids (from the licence table, such as attribution, notice, share-alike,
    user-threshold) accepted; a licence with any other obligation goes to review."""


class SeverityLimits(BaseModel):
    """A finding severity per check; null means no limit for that check."""

    model_config = _CONFIG

    security: SeverityLimit = None
    """Findings of the security scan of every file."""
    integrity: SeverityLimit = None
    """Findings about the upstream signature."""
    license: SeverityLimit = None
    """Findings of the licence check, whose licences the license section judges."""
    documentation: SeverityLimit = None
    """Findings of the model card check, whose sections the documentation section judges."""
    dependencies: SeverityLimit = None
    """Known vulnerabilities of the components the model depends on, at their advisory's severity."""

    def limit(self, check: str) -> Severity | None:
        """The limit for ``check``, or None when there is none (or the policy knows no such check)."""
        value = getattr(self, check, None)
        return value if isinstance(value, Severity) else None


class ReviewAbove(SeverityLimits):
    """Per check, the highest finding severity approved without review; anything above is reviewed."""

    security: SeverityLimit = Severity.LOW
    """Findings of the security scan of every file."""
    integrity: SeverityLimit = Severity.INFO
    """Findings about the upstream signature."""
    dependencies: SeverityLimit = Severity.MEDIUM
    """Known vulnerabilities of the components the model depends on, at their advisory's severity."""


class RejectFrom(SeverityLimits):
    """Per check, the lowest finding severity that rejects the model."""

    security: SeverityLimit = Severity.HIGH
    """Findings of the security scan of every file."""
    integrity: SeverityLimit = Severity.CRITICAL
    """Findings about the upstream signature."""


class SecurityRules(BaseModel):
    """How the security scan is run and judged beyond finding severities."""

    model_config = _CONFIG

    on_incomplete: Escalation = "review"
    """A file that could not be fully scanned is never clean."""
    allowed_globals: tuple[GlobalName, ...] = ()
    """``module:name`` pairs a reviewer has checked, which pickles may call (the model's own
    classes). Dangerous families stay critical whatever is listed here."""


class IntegrityRules(BaseModel):
    """What the policy asks of the publisher's signature."""

    model_config = _CONFIG

    signature: Literal["optional", "required", "verified"] = "optional"
    """optional: none is needed; required: an absent signature goes to review; verified: anything
    but a signature verified against a trusted key goes to review. A signature whose digests do not
    match the files rejects at every level; an unreadable one is reviewed."""


class DocumentationRules(BaseModel):
    """What the model card must say."""

    model_config = _CONFIG

    require_card: StrictBool = True
    """A model without a model card (README.md) goes to on_missing."""
    require: tuple[Section, ...] = ("intended_use",)
    """Sections the card must fill in: intended_use, limitations, training_data, evaluation."""
    on_missing: Escalation = "review"
    """What a missing card or required section does."""


class DependencyRules(BaseModel):
    """What the policy asks of the audit of the model's dependencies beyond finding severities."""

    model_config = _CONFIG

    unaudited: Literal["approve", "review", "reject"] = "approve"
    """Components that could not be audited because no advisory database has been synced
    (``steward advisories sync``). Approve by default so that a first admission works offline; the
    watch audits the version once a database exists."""


def _metric(value: str) -> str:
    if value in METRICS:
        return value
    near = difflib.get_close_matches(value, list(METRICS), n=1)
    hint = f"did you mean {near[0]}?" if near else f"known metrics: {', '.join(METRICS)}"
    raise _invalid(f"is not a metric ModelSteward measures; {hint}")


MetricName = Annotated[StrictStr, AfterValidator(_metric)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class PerformanceRules(BaseModel):
    """What the model must achieve on the enterprise's evaluation data, and how fast."""

    model_config = _CONFIG

    minimum: dict[MetricName, float] = {}
    """Metric -> the lowest value approved (accuracy, macro_f1, roc_auc, recall@5, ndcg@10, rouge_l, ...)."""
    maximum: dict[MetricName, float] = {}
    """Metric -> the highest value approved (ece, mae, rmse)."""
    judge: Literal["estimate", "interval"] = "estimate"
    """estimate: the measured value must meet the bound; interval: the whole confidence interval must,
    so that a small evaluation set cannot pass by luck."""
    max_p95_latency_ms: Annotated[float, Field(gt=0)] | None = None
    """The highest 95th-percentile latency of one batch, in milliseconds, at the evaluation batch size."""
    unsandboxed: Literal["approve", "review", "reject"] = "review"
    """An evaluation that ran without isolation (``--no-sandbox``)."""
    on_fail: Escalation = "review"
    """What a bound that is not met does."""


class FairnessRules(BaseModel):
    """How differently the model may treat groups of people; null means no limit."""

    model_config = _CONFIG

    max_demographic_parity_difference: Fraction | None = None
    """The largest gap in selection rate between groups of a sensitive column (or an intersection)."""
    min_demographic_parity_ratio: Fraction | None = None
    """The smallest ratio of lowest to highest selection rate; 0.8 is the four-fifths rule."""
    max_equalized_odds_difference: Fraction | None = None
    """The largest gap in true or false positive rate between groups."""
    max_association_effect_size: Annotated[float, Field(ge=0)] | None = None
    """The largest absolute WEAT/SEAT effect size (Cohen's d, up to 2) among significant association tests."""
    association_alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05
    """An association test counts as significant below this permutation p-value."""
    max_counterfactual_flip_rate: Fraction | None = None
    """The largest fraction of inputs whose output changes when identity terms are swapped."""
    on_fail: Escalation = "review"
    """What a limit that is exceeded does."""


class PromotionRule(BaseModel):
    """What a version needs before an alias may point at it."""

    model_config = _CONFIG

    approvals: Annotated[tuple[Domain, ...], AfterValidator(_distinct)] = ()
    """Reviewer domains (security, legal, ethics, ...) that must each have approved the version, with
    no rejection standing, before the alias moves to it."""


class Policy(BaseModel):
    """An enterprise's rules for adopting a model, as written in a policy file."""

    model_config = _CONFIG

    version: Literal[1]
    """The version of this schema."""
    name: Annotated[StrictStr, AfterValidator(_name)]
    """A short name, recorded with every decision next to the policy's digest."""
    description: StrictStr = ""
    """What the policy is for and who owns it."""
    require_checks: tuple[CheckName, ...] = FILE_CHECKS
    """Checks that must have run and finished; one missing or skipped goes to review."""
    on_check_error: Escalation = "review"
    """A check that could not finish (status error) is never a pass."""
    license: LicenseRules = LicenseRules()
    obligations: ObligationRules = ObligationRules()
    max_severity: ReviewAbove = ReviewAbove()
    reject_severity: RejectFrom = RejectFrom()
    security: SecurityRules = SecurityRules()
    integrity: IntegrityRules = IntegrityRules()
    documentation: DocumentationRules = DocumentationRules()
    dependencies: DependencyRules = DependencyRules()
    performance: PerformanceRules = PerformanceRules()
    fairness: FairnessRules = FairnessRules()
    promotion: dict[AliasName, PromotionRule] = {}
    """Alias (such as production) -> what a version needs before the alias may point at it."""

    _digest: str = PrivateAttr(default="")

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the policy file's bytes (of the canonical JSON for the built-in one)."""
        return self._digest

    def required_approvals(self, alias: str) -> tuple[str, ...]:
        """The reviewer domains whose approval ``alias`` requires; none for an alias the policy omits."""
        rule = self.promotion.get(alias)
        return () if rule is None else rule.approvals

    @model_validator(mode="after")
    def _reject_above_review(self, info: ValidationInfo) -> Policy:
        _raise_first(severity_contradictions(self.max_severity, self.reject_severity), info, within=())
        return self


def severity_contradictions(review: SeverityLimits, reject: SeverityLimits) -> Iterator[Contradiction]:
    """Each check whose reject limit is not above its review limit.

    A null limit contradicts nothing: with no review limit, findings below the reject limit are
    approved and the others rejected; with no reject limit, nothing is rejected for its severity.
    """
    for check in CHECKS:
        # The highest severity approved without review, and the lowest that rejects.
        highest, lowest = review.limit(check), reject.limit(check)
        if highest is None or lowest is None or lowest > highest:
            continue
        # Point at the limit the file wrote: the other may be a default the author never saw.
        if check in reject.model_fields_set:
            yield Contradiction(
                ("reject_severity", check),
                f"must be above max_severity.{check} ({highest.label}): a finding cannot be both approved "
                "and rejected",
                lowest.label,
            )
        else:
            yield Contradiction(
                ("max_severity", check),
                f"must be below reject_severity.{check} ({lowest.label} by default): a finding cannot be "
                f"both approved and rejected; lower it or set reject_severity.{check}",
                highest.label,
            )
