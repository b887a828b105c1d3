"""The API's JSON shapes as Pydantic models (for the OpenAPI document and request bodies), and the
functions that turn registry values into them.

Read endpoints build plain dicts with the ``*_json`` functions and return them as they are: validating
a response the code has just built from typed values would only cost time on the hot path. The models
below document those dicts; tests check that responses validate against them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, Field

from modelsteward.registry import (
    AffectedVersion,
    Alert,
    Approval,
    AuditEntry,
    ModelSummary,
    Page,
    TokenInfo,
    UpstreamRecord,
    User,
    VersionDiff,
    VersionInfo,
    VersionSummary,
)

T = TypeVar("T")

# Responses


class ErrorDetail(BaseModel):
    code: str = Field(
        description="Stable: unauthorized, forbidden, not_found, conflict, invalid, throttled, ..."
    )
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str


class UserOut(BaseModel):
    name: str
    role: str
    domains: list[str]
    disabled: bool
    created: datetime


class ModelOut(BaseModel):
    name: str
    versions: int = Field(description="How many versions, archived ones included.")
    latest: int | None = Field(description="The newest version that is not archived.")
    verdict: str | None = Field(description="The latest version's verdict: approve, review or reject.")
    aliases: dict[str, int]
    created: datetime
    archived: bool


class ModelPageOut(BaseModel):
    items: list[ModelOut]
    total: int
    limit: int
    offset: int


class ApprovalOut(BaseModel):
    domain: str
    actor: str
    at: datetime
    comment: str
    decision: str


class VersionOut(BaseModel):
    name: str
    number: int
    ref: str
    verdict: str
    manifest_digest: str
    source: str
    revision: str | None
    created: datetime
    archived: bool
    submitted_by: str
    derived_from: str | None
    documents: dict[str, str]
    aliases: list[str]
    tags: list[str]
    approvals: list[ApprovalOut]


class VersionDetailOut(VersionOut):
    upstream: str | None = Field(description="Where the watch looks for newer revisions.")
    manifest: dict[str, Any] = Field(description="Every file's path, size and SHA-256.")
    record: dict[str, Any] = Field(description="The admission record: decision, checks and findings.")


class DiffOut(BaseModel):
    a: str
    b: str
    added: list[str]
    removed: list[str]
    changed: list[str]
    verdicts: list[str] = Field(description="A's verdict, then B's.")
    licenses: list[list[str]] = Field(description="A's licence identifiers, then B's.")
    same_files: bool


class VersionPageOut(BaseModel):
    items: list[VersionOut]
    total: int
    limit: int
    offset: int


class ModelDetailOut(ModelOut):
    recent_versions: list[VersionOut] = Field(description="The newest versions (up to 10).")


class EvaluationOut(BaseModel):
    ref: str
    task: str
    dataset_digest: str
    actor: str
    at: datetime
    record: dict[str, Any]


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int


class AuditProblemOut(BaseModel):
    seq: int
    kind: str
    detail: str


class AuditReportOut(BaseModel):
    ok: bool
    entries: int
    head: AuditEntryOut | None = Field(
        description="The last entry: record its hash to detect a cut tail later (--anchor)."
    )
    problems: list[AuditProblemOut]


class AlertOut(BaseModel):
    fingerprint: str
    rule: str
    state: str
    severity: str
    value: float | None
    labels: dict[str, str]
    annotations: dict[str, str]
    active_since: datetime | None
    fired_at: datetime | None
    resolved_at: datetime | None
    observed_at: datetime


class TokenOut(BaseModel):
    id: str
    user: str
    name: str
    created: datetime
    expires: datetime | None
    revoked: datetime | None
    last_used: datetime | None


class IssuedTokenOut(TokenOut):
    secret: str = Field(description="Shown this once: the server keeps only its SHA-256.")


class JobOut(BaseModel):
    id: str
    kind: Literal["admit", "evaluate", "compare", "verify"]
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: str = Field(description="The latest progress message.")
    updates: int = Field(description="How many progress messages so far.")
    submitted_by: str
    created: datetime
    started: datetime | None
    finished: datetime | None
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None


class KpiWindowOut(BaseModel):
    start: datetime
    end: datetime
    count: int
    throughput: float | None
    error_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    labelled: int
    accuracy: float | None
    f1: float | None


class KpisOut(BaseModel):
    model: str
    version: int | None
    window_seconds: int
    windows: list[KpiWindowOut]


class AdmittedOut(BaseModel):
    ref: str
    revision: str | None = Field(description="The revision it was admitted at.")
    source: str


class UpstreamSeenOut(BaseModel):
    source: str = Field(description="The tracked source, e.g. hf://org/name@main.")
    revision: str | None = Field(description="The revision the watch saw there.")
    licenses: list[str] = Field(description="The licences the source declared.")
    gated: str | None = Field(description="auto or manual when the Hub gates the files; null when open.")
    new_version: str | None = Field(description="The repository the upstream names as its successor.")
    checked: datetime


class UpstreamOut(BaseModel):
    name: str
    latest: AdmittedOut | None = Field(description="The newest version that is not archived.")
    upstream: UpstreamSeenOut | None = Field(
        description="What steward watch last saw upstream; null before its first look at the model."
    )
    newer_upstream: bool = Field(description="The watch saw a revision other than the latest version's.")


class UpstreamPageOut(BaseModel):
    items: list[UpstreamOut]
    total: int
    limit: int
    offset: int


class ComponentOut(BaseModel):
    name: str
    origin: str
    version: str | None
    specifier: str
    evidence: str
    purl: str


class VulnerabilityOut(BaseModel):
    version: str = Field(description="NAME@N: the affected version.")
    component: ComponentOut
    advisory: str = Field(description="The advisory's id (GHSA-..., PYSEC-...).")
    aliases: list[str] = Field(description="Other ids of the same issue (CVE-...).")
    summary: str
    severity: Literal["info", "low", "medium", "high", "critical"] | None = Field(
        description="Null when the advisory rates it neither by CVSS nor by its database."
    )
    fixed: list[str] = Field(description="Versions of the component that fix it, lowest first.")
    found: datetime = Field(description="When an audit first found it.")
    resolved: datetime | None = Field(description="When an audit stopped finding it; null while it holds.")


class VulnerabilityPageOut(BaseModel):
    items: list[VulnerabilityOut]
    total: int
    limit: int
    offset: int
    advisories: int = Field(
        description="Advisories in the registry's offline database: 0 means nothing could be found, "
        "not that nothing is vulnerable."
    )


# Requests

VersionNumber = Annotated[int, Path(ge=1, le=999_999_999, description="A version number: 1, 2, ...")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page (at most 500).")]
Offset = Annotated[int, Query(ge=0, le=10**9, description="Items to skip.")]

_NAME = Field(min_length=1, max_length=200)


class AliasIn(BaseModel):
    version: int = Field(ge=1, le=999_999_999)


class ApprovalIn(BaseModel):
    domain: str = Field(min_length=1, max_length=100, description="One of the reviewer's domains.")
    decision: Literal["approve", "reject"] = "approve"
    comment: str = Field(default="", max_length=2000)


class TagIn(BaseModel):
    tag: str = Field(min_length=1, max_length=100)


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Literal["viewer", "submitter", "reviewer", "owner", "admin"]
    domains: list[str] = Field(default_factory=list, max_length=20)


class RoleIn(BaseModel):
    role: Literal["viewer", "submitter", "reviewer", "owner", "admin"]
    domains: list[str] = Field(default_factory=list, max_length=20)


class TokenIn(BaseModel):
    user: str = Field(min_length=1, max_length=100)
    name: str = Field(default="", max_length=100)
    expires_in_days: int = Field(default=90, ge=0, le=3650, description="0: never expires.")


class EvaluationIn(BaseModel):
    """The evaluation options of ``steward evaluate`` (and ``admit --data``) that a job may set."""

    data: str = Field(
        min_length=1, max_length=4096, description="A CSV, Parquet or JSONL file on the server."
    )
    task: Literal["classification", "regression", "retrieval", "generation", "entities"]
    columns: str = Field(default="", max_length=2000, description="ROLE=COLUMN,... as on the command line.")
    limit: int | None = Field(default=None, ge=1)
    adapter: str | None = Field(default=None, max_length=50)
    options: dict[str, Any] = Field(default_factory=dict, description="Adapter options.")
    sensitive: str = Field(default="", max_length=2000)
    positive: str | None = Field(default=None, max_length=200)
    resamples: int = Field(default=1000, ge=0, le=100_000)
    seed: int = 0
    no_fairness: bool = False
    batch_size: int = Field(default=32, ge=1, le=100_000)


class AdmitIn(BaseModel):
    source: str = Field(
        min_length=1, max_length=4096, description="A path on the server, hf://org/name[@rev] or a git URL."
    )
    name: str = _NAME
    derived_from: str | None = Field(default=None, max_length=300)
    evaluation: EvaluationIn | None = None


class CompareIn(EvaluationIn):
    models: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        min_length=2,
        max_length=20,
        description="NAME@VERSION, NAME@ALIAS or a path on the server, each once.",
    )
    metric: str | None = Field(default=None, max_length=100, description="Rank by (default: the task's).")


class VerifyIn(BaseModel):
    ref: str = Field(min_length=1, max_length=300, description="NAME@VERSION or NAME@ALIAS.")


class EvaluateIn(EvaluationIn):
    model: str = Field(min_length=1, max_length=300, description="NAME@VERSION or NAME@ALIAS.")
    record: bool = True


# Values -> JSON


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def user_json(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role.value,
        "domains": list(user.domains),
        "disabled": user.disabled,
        "created": user.created.isoformat(),
    }


def page_json(page: Page[T], item: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """A page of a list as every paged route answers it: its items (each by ``item``) and its bounds."""
    return {
        "items": [item(value) for value in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


def model_json(model: ModelSummary) -> dict[str, Any]:
    return {
        "name": model.name,
        "versions": model.versions,
        "latest": model.latest,
        "verdict": None if model.verdict is None else model.verdict.value,
        "aliases": dict(model.aliases),
        "created": model.created.isoformat(),
        "archived": model.archived,
    }


def approval_json(approval: Approval) -> dict[str, Any]:
    return {
        "domain": approval.role,
        "actor": approval.actor,
        "at": approval.at.isoformat(),
        "comment": approval.comment,
        "decision": approval.decision,
    }


def version_json(version: VersionSummary | VersionInfo) -> dict[str, Any]:
    return {
        "name": version.name,
        "number": version.number,
        "ref": version.ref,
        "verdict": version.verdict.value,
        "manifest_digest": version.manifest_digest,
        "source": version.source,
        "revision": version.revision,
        "created": version.created.isoformat(),
        "archived": version.archived,
        "submitted_by": version.submitted_by,
        "derived_from": version.derived_from,
        "documents": version.documents,
        "aliases": list(version.aliases),
        "tags": list(version.tags),
        "approvals": [approval_json(a) for a in version.approvals],
    }


def version_detail_json(version: VersionInfo) -> dict[str, Any]:
    return {
        **version_json(version),
        "upstream": version.upstream,
        "manifest": version.manifest.to_json(),
        "record": dict(version.record),
    }


def diff_json(diff: VersionDiff) -> dict[str, Any]:
    return {
        "a": diff.a,
        "b": diff.b,
        "added": list(diff.added),
        "removed": list(diff.removed),
        "changed": list(diff.changed),
        "verdicts": [verdict.value for verdict in diff.verdicts],
        "licenses": [list(ids) for ids in diff.licenses],
        "same_files": diff.same_files,
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "payload": dict(entry.payload),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def alert_json(alert: Alert) -> dict[str, Any]:
    value = alert.value
    return {
        "fingerprint": alert.fingerprint,
        "rule": alert.rule,
        "state": alert.state.value,
        "severity": alert.severity.value,
        # JSON has no NaN or infinity.
        "value": value if math.isfinite(value) else None,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "active_since": _when(alert.active_since),
        "fired_at": _when(alert.fired_at),
        "resolved_at": _when(alert.resolved_at),
        "observed_at": alert.observed_at.isoformat(),
    }


def token_json(token: TokenInfo) -> dict[str, Any]:
    return {
        "id": token.id,
        "user": token.user,
        "name": token.name,
        "created": token.created.isoformat(),
        "expires": _when(token.expires),
        "revoked": _when(token.revoked),
        "last_used": _when(token.last_used),
    }


def upstream_json(name: str, record: UpstreamRecord | None, latest: VersionSummary | None) -> dict[str, Any]:
    seen = None if record is None else record.state.get("revision")
    return {
        "name": name,
        "latest": None
        if latest is None
        else {"ref": latest.ref, "revision": latest.revision, "source": latest.source},
        "upstream": None
        if record is None
        else {
            "source": record.source,
            "revision": seen,
            "licenses": [str(licence) for licence in record.state.get("licenses") or ()],
            # Hugging Face says "auto" or "manual"; older records may hold False for open.
            "gated": str(record.state["gated"]) if record.state.get("gated") else None,
            "new_version": record.state.get("new_version") or None,
            "checked": record.checked.isoformat(),
        },
        "newer_upstream": bool(seen and latest is not None and latest.revision and seen != latest.revision),
    }


def vulnerability_json(item: AffectedVersion) -> dict[str, Any]:
    return {
        "version": item.ref,
        **item.vulnerability.to_json(),
        "found": item.found.isoformat(),
        "resolved": _when(item.resolved),
    }
