"""The facts each check reports in its result's ``data``, as far as the policy reads them.

Read through these models so that a result that breaks its contract becomes a reason to review,
never a traceback or a silent pass.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_CONFIG = ConfigDict(extra="ignore", frozen=True)


class Incomplete(BaseModel):
    """A file the security scan could not read to the end."""

    model_config = _CONFIG

    path: str
    reasons: tuple[str, ...]


class SecurityData(BaseModel):
    """``data`` of the security check."""

    model_config = _CONFIG

    incomplete: tuple[Incomplete, ...]


class Signature(BaseModel):
    """The publisher's signature as the integrity check found it."""

    model_config = _CONFIG

    status: Literal["absent", "verified", "mismatch", "unverified", "invalid"]
    path: str | None
    detail: str


class IntegrityData(BaseModel):
    """``data`` of the integrity check."""

    model_config = _CONFIG

    upstream_signature: Signature


class FoundLicense(BaseModel):
    """A licence id and where it was declared."""

    model_config = _CONFIG

    id: str
    where: str


class Obligation(BaseModel):
    """A condition a licence puts on the enterprise."""

    model_config = _CONFIG

    id: str
    text: str


class LicenseData(BaseModel):
    """``data`` of the license check."""

    model_config = _CONFIG

    licenses: tuple[FoundLicense, ...]
    license_class: str = Field(alias="class")
    ids: tuple[str, ...]
    known: bool
    conflict: bool
    conflict_detail: str
    obligations: tuple[Obligation, ...]


class DocumentationData(BaseModel):
    """``data`` of the documentation check."""

    model_config = _CONFIG

    card: str | None
    sections: dict[str, bool]


class DependenciesData(BaseModel):
    """``data`` of the dependencies check."""

    model_config = _CONFIG

    audited: bool
    """False when no advisory database was there to audit the components against."""


class Estimate(BaseModel):
    """A measured value with its confidence interval; null where it is undefined (an AUC on one class)."""

    model_config = _CONFIG

    value: float | None
    low: float | None
    high: float | None


class Latency(BaseModel):
    """Latency of one batch at the evaluation batch size, in milliseconds."""

    model_config = _CONFIG

    p50: float
    p95: float
    p99: float


class Efficiency(BaseModel):
    """What the evaluation measured of the model's cost."""

    model_config = _CONFIG

    batch_size: int
    latency_ms: Latency


class PerformanceData(BaseModel):
    """``data`` of the performance check."""

    model_config = _CONFIG

    task: str
    isolation: str
    metrics: dict[str, Estimate]
    efficiency: Efficiency


class GroupGaps(BaseModel):
    """How far apart the groups of one sensitive column (or intersection) are."""

    model_config = _CONFIG

    feature: str
    demographic_parity_difference: float | None
    demographic_parity_ratio: float | None
    equalized_odds_difference: float | None


class Association(BaseModel):
    """One embedding association test (WEAT or SEAT)."""

    model_config = _CONFIG

    test: str
    effect_size: float
    p_value: float


class Counterfactual(BaseModel):
    """How often swapping one family of identity terms changed the output."""

    model_config = _CONFIG

    family: str
    pairs: int
    flip_rate: float | None


class FairnessData(BaseModel):
    """``data`` of the fairness check."""

    model_config = _CONFIG

    task: str
    """The evaluation task, which says which evidence applies: group gaps and counterfactuals for
    classifiers, counterfactuals for generators, association tests for embedding models."""
    groups: tuple[GroupGaps, ...] = ()
    associations: tuple[Association, ...] = ()
    counterfactual: tuple[Counterfactual, ...] = ()
