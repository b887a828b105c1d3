"""What the registry hands out: plain frozen values, detached from the database."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from modelsteward.core import Component, Manifest, Severity, Verdict, Vulnerability


class RegistryError(Exception):
    """A registry operation that cannot be done: unknown model, version or alias, archived, database down."""


class RegistryInputError(RegistryError):
    """A malformed name, reference, alias, tag or role: the caller's input, not the registry's state."""


@dataclass(frozen=True, slots=True)
class Approval:
    """Someone in a role signed a version off."""

    role: str
    """The role they acted in (``security``, ``legal``, ``owner``, ...): a reviewer's domain."""
    actor: str
    at: datetime
    """When (UTC)."""
    comment: str = ""
    decision: str = "approve"
    """``approve``, or ``reject``: a rejection outweighs every earlier approval in its role."""


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """An evaluation of a version made after its admission."""

    ref: str
    """``NAME@NUMBER`` of the version evaluated."""
    task: str
    dataset_digest: str
    """``sha256:<hex>`` of the evaluation data file."""
    record: Mapping[str, Any]
    """The evaluation as JSON: metrics with intervals, efficiency, fairness, the isolation it ran in."""
    actor: str
    at: datetime
    """When it was recorded (UTC)."""


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One immutable version of a registered model, with what has been said about it since."""

    name: str
    number: int
    """1, 2, ... in order of registration under ``name``."""
    manifest: Manifest
    manifest_digest: str
    """``sha256:<hex>`` of the manifest: the version's content address."""
    source: str
    revision: str | None
    """The commit the source resolved to, if it has one."""
    verdict: Verdict
    record: Mapping[str, Any]
    """The admission as JSON: assessment, decision, policy."""
    documents: Mapping[str, str]
    """Document kind (``report``, ``model-card``, ``ml-bom``, ...) -> artifact store digest."""
    derived_from: str | None
    """``NAME@VERSION`` this version was derived from."""
    created: datetime
    """When it was registered (UTC)."""
    archived: bool
    aliases: tuple[str, ...] = ()
    """Aliases that point at this version now."""
    tags: tuple[str, ...] = ()
    approvals: tuple[Approval, ...] = ()
    upstream: str | None = None
    """The source as the user gave it (``hf://org/name@main``), which the watch follows; None for a
    local folder."""
    submitted_by: str = ""
    """Who registered it (the actor of the admission): never the one to approve it. Empty only for a
    version whose admission entry was gone when the registry first recorded submitters."""

    @property
    def ref(self) -> str:
        """``NAME@NUMBER``: the reference that always means this version."""
        return f"{self.name}@{self.number}"


@dataclass(frozen=True, slots=True)
class Description:
    """What is recorded with a new version, written once its number is known."""

    record: Mapping[str, Any]
    """The admission as JSON: assessment, decision, policy."""
    documents: Mapping[str, str]
    """Document kind (``report``, ``model-card``, ``ml-bom``, ...) -> artifact store digest."""


@dataclass(frozen=True, slots=True)
class Registration:
    """What :meth:`Registry.register` did."""

    version: VersionInfo
    new: bool
    """False when the same content was already registered under the name: that version is returned."""


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """One registered model at a glance."""

    name: str
    versions: int
    """How many versions, archived ones included."""
    latest: int | None
    """The newest version that is not archived; None when every one is."""
    verdict: Verdict | None
    """The latest version's verdict."""
    aliases: Mapping[str, int]
    """Alias -> version number."""
    created: datetime
    archived: bool


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """How version ``b`` differs from version ``a``."""

    a: str
    """``NAME@NUMBER`` of the first version."""
    b: str
    added: tuple[str, ...]
    """Paths in ``b`` only."""
    removed: tuple[str, ...]
    """Paths in ``a`` only."""
    changed: tuple[str, ...]
    """Paths in both whose content differs."""
    verdicts: tuple[Verdict, Verdict]
    licenses: tuple[tuple[str, ...], tuple[str, ...]]
    """Normalised licence ids the license check found in ``a`` and in ``b``."""

    @property
    def same_files(self) -> bool:
        """True when both versions hold the same files."""
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One entry of the audit log."""

    seq: int
    """1, 2, ... in order of writing, without gaps."""
    at: datetime
    """When (UTC)."""
    actor: str
    action: str
    """What happened: ``admit``, ``admit.repeat``, ``alias.set``, ``archive``, ``approve``, ..."""
    subject: str
    """What it happened to: ``NAME`` or ``NAME@NUMBER``."""
    payload: Mapping[str, Any]
    """The details, as JSON."""
    prev_hash: str
    """The hash of the entry before; all zeros for the first."""
    hash: str
    """SHA-256 (hex) of the canonical JSON of every field above."""


class Tamper(enum.StrEnum):
    """How the audit log was changed behind the registry's back."""

    EDITED = "edited"
    """An entry's content no longer matches its hash, or the hash its successor recorded."""
    DELETED = "deleted"
    """Entries are missing: a gap in the sequence, or a successor chained to an entry that is gone."""
    REORDERED = "reordered"
    """An entry stands at another place than where it was written."""
    TRUNCATED = "truncated"
    """The anchor (a head hash recorded earlier) is no longer in the log: its tail was cut or rewritten."""


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """One place where the audit chain is broken."""

    seq: int
    kind: Tamper
    detail: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The result of checking the whole audit chain."""

    entries: int
    head: AuditEntry | None
    """The last entry: record its hash elsewhere to detect a truncated tail later."""
    problems: tuple[AuditProblem, ...]

    @property
    def ok(self) -> bool:
        """True when the chain is whole."""
        return not self.problems


@dataclass(frozen=True, slots=True)
class StoredAdvisory:
    """An advisory as the registry keeps it: enough to find it by package, and its compact record."""

    id: str
    modified: datetime
    """OSV's ``modified`` (UTC): a sync replaces a stored record only with a newer one."""
    withdrawn: bool
    packages: tuple[str, ...]
    """Canonical names of the packages it affects."""
    record: str
    """The compact advisory as JSON text; the registry stores it and never reads it."""


@dataclass(frozen=True, slots=True)
class AdvisorySync:
    """What storing a batch of advisories changed."""

    added: tuple[str, ...]
    """Ids not stored before."""
    updated: tuple[str, ...]
    """Ids stored before with an older ``modified``."""
    unchanged: int
    """Records already stored at the same or a newer ``modified``."""
    total: int
    """Advisories stored after the sync."""

    @property
    def changed(self) -> tuple[str, ...]:
        """Ids whose matches may differ now: the ones an incremental audit looks at."""
        return (*self.added, *self.updated)


@dataclass(frozen=True, slots=True)
class ComponentUse:
    """An audited component (name, exact version, origin) and the versions that have it."""

    component: Component
    refs: tuple[str, ...]
    """``NAME@NUMBER`` of every version with this component at this version."""


@dataclass(frozen=True, slots=True)
class AffectedVersion:
    """A registered version and one vulnerability of its components."""

    ref: str
    """``NAME@NUMBER``."""
    vulnerability: Vulnerability
    found: datetime
    """When an audit first found it (UTC)."""
    resolved: datetime | None = None
    """When an audit stopped finding it; None while it holds."""


@dataclass(frozen=True, slots=True)
class VulnerabilityChanges:
    """What an audit changed in the registry's record of vulnerabilities."""

    found: tuple[AffectedVersion, ...]
    """Vulnerabilities not on record before: the ones to tell people about."""
    resolved: tuple[AffectedVersion, ...]
    """Vulnerabilities on record that the audit no longer finds."""
    holding: int
    """Vulnerabilities on record before that still hold."""


@dataclass(frozen=True, slots=True)
class UpstreamRecord:
    """What the watch last saw upstream of a model."""

    name: str
    """The model."""
    source: str
    """The tracked source (``hf://org/name@main``)."""
    state: Mapping[str, Any]
    """Revision, licences, gating, ``new_version`` and files, as the source reported them."""
    checked: datetime
    """When (UTC)."""


class AlertState(enum.StrEnum):
    """Where an alert stands: its rule's condition held for a while (firing) or no longer does."""

    PENDING = "pending"
    """The condition holds, not yet for as long as the rule's ``for``."""
    FIRING = "firing"
    """The condition has held for the rule's ``for``: people are told."""
    RESOLVED = "resolved"
    """The condition cleared after the alert fired: people are told again."""
    INACTIVE = "inactive"
    """The condition cleared while pending: nobody was told, nobody will be."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: an alert rule's condition on one model version (and column), as the registry keeps it."""

    fingerprint: str
    """16 hex digits identifying the alert: the rule's name and the model, version and column labels."""
    rule: str
    """The rule's name (``alertname`` in Alertmanager's terms)."""
    labels: Mapping[str, str]
    """``alertname``, ``model``, ``version``, ``column`` (drift of one column), ``severity``, then the
    rule's own labels."""
    annotations: Mapping[str, str]
    """The rule's annotations with their placeholders filled in (``summary``, ``description``, ...)."""
    severity: Severity
    state: AlertState
    value: float
    """The metric's latest observed value."""
    active_since: datetime | None
    """When the condition began to hold (the observation that first met it); None while inactive."""
    fired_at: datetime | None
    """When it last fired; None before it first fires (and again once it is pending anew)."""
    resolved_at: datetime | None
    """When it last resolved; None while it is firing or has never resolved."""
    observed_at: datetime
    """The time of the latest observation it was evaluated on; older ones are not applied again."""
    evaluated_at: datetime
    """When the evaluation that last changed it ran."""
    notified: AlertState | None = None
    """The state people were last told of (firing or resolved); None before they were told anything."""

    @property
    def untold(self) -> bool:
        """Whether people have still to be told that it fired or resolved."""
        return self.state in (AlertState.FIRING, AlertState.RESOLVED) and self.notified != self.state


class Role(enum.StrEnum):
    """What a user may do; the server maps each role to its permissions (docs/identity.md)."""

    VIEWER = "viewer"
    SUBMITTER = "submitter"
    REVIEWER = "reviewer"
    OWNER = "owner"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User:
    """Someone (or some service) the registry knows by name."""

    name: str
    role: Role
    domains: tuple[str, ...]
    """Where a reviewer approves (``security``, ``legal``, ``ethics``, ...); empty for other roles."""
    disabled: bool
    """A disabled user's tokens no longer authenticate."""
    created: datetime
    """When the user was added (UTC)."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token, without its secret: only the secret's SHA-256 is kept."""

    id: str
    """``tok_`` and 12 hex digits; the secret starts with the same hex, which is how it is found."""
    user: str
    """The name of the user it authenticates as."""
    name: str
    """A label given when it was issued (``ci``, ``laptop``)."""
    created: datetime
    expires: datetime | None
    """None: it never expires."""
    revoked: datetime | None
    """When it was revoked; None while it holds."""
    last_used: datetime | None
    """When it last authenticated, to the minute; None if never."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just issued: the only moment its secret exists outside the caller's hands."""

    info: TokenInfo
    secret: str
    """``stw_<hex of the id>_<43 url-safe characters>``: shown once, never stored."""
