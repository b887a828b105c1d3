"""The registry's tables, as SQLAlchemy ORM classes; the migrations under ``migrations/`` create them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, MetaData, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, always read back as an aware UTC datetime.

    PostgreSQL keeps the zone (``timestamptz``); SQLite has no zone type, so the UTC wall time is
    stored and the zone put back on reading. Microseconds survive on both, which the audit chain needs:
    an entry's time is part of its hash.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: the registry stores UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """The registry's metadata; constraints get predictable names, which later migrations refer to."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class ModelRow(Base):
    """A name under which versions of one model are registered."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    archived: Mapped[bool] = mapped_column(default=False)

    versions: Mapped[list[VersionRow]] = relationship(back_populates="model", order_by="VersionRow.number")


class VersionRow(Base):
    """One immutable admission of a model's content; only ``archived`` ever changes."""

    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("model_id", "number", name="uq_versions_model_number"),
        # Content addressing: the same files under the same name are one version.
        UniqueConstraint("model_id", "manifest_digest", name="uq_versions_model_digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    number: Mapped[int]
    manifest_digest: Mapped[str] = mapped_column(String(71))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text)
    revision: Mapped[str | None] = mapped_column(String(200))
    upstream: Mapped[str | None] = mapped_column(Text)
    """The source as the user gave it (``hf://org/name@main``): the branch or tag the watch follows.
    None for a local folder, which has no upstream."""
    verdict: Mapped[str] = mapped_column(String(16))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    documents: Mapped[dict[str, str]] = mapped_column(JSON)
    derived_from_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    archived: Mapped[bool] = mapped_column(default=False)
    submitted_by: Mapped[str] = mapped_column(String(200), server_default="")
    """The actor who registered it, who may never approve it; empty only where migration 0005 found
    no admission entry to learn it from."""

    model: Mapped[ModelRow] = relationship(back_populates="versions")
    derived_from: Mapped[VersionRow | None] = relationship(remote_side="VersionRow.id")
    tags: Mapped[list[TagRow]] = relationship(order_by="TagRow.tag")
    approvals: Mapped[list[ApprovalRow]] = relationship(order_by="ApprovalRow.id")


class AliasEventRow(Base):
    """One move of an alias: set, removed (``version_id`` None) or rolled back.

    The history is the only record of aliases: where an alias points now is its latest entry.
    """

    __tablename__ = "alias_history"
    __table_args__ = (Index("ix_alias_history_model_alias", "model_id", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    alias: Mapped[str] = mapped_column(String(100))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    basis_id: Mapped[int | None] = mapped_column(ForeignKey("alias_history.id"))
    """The state this one replaced: a rollback returns to it, and takes over its basis in turn, so
    repeated rollbacks walk further back."""
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))

    version: Mapped[VersionRow | None] = relationship()
    basis: Mapped[AliasEventRow | None] = relationship(remote_side="AliasEventRow.id")


class TagRow(Base):
    """A free label on a version."""

    __tablename__ = "tags"

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)


class ApprovalRow(Base):
    """A person in a role signing off a version."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    role: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    comment: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(String(16), server_default="approve")
    """``approve`` or ``reject``."""


class EvaluationRow(Base):
    """One evaluation of a version on a dataset, made after its admission (``steward evaluate``)."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    task: Mapped[str] = mapped_column(String(50))
    dataset_digest: Mapped[str] = mapped_column(String(71))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The evaluation as JSON: metrics with intervals, efficiency, fairness, the isolation it ran in."""
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComponentRow(Base):
    """One Python distribution a version depends on, as the dependencies check found it at admission."""

    __tablename__ = "components"
    __table_args__ = (Index("ix_components_name", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    """Canonical PyPI name: what advisories are looked up by."""
    version: Mapped[str | None] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(20))
    specifier: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")


class AdvisoryRow(Base):
    """One OSV advisory of the offline database, in the compact form the matcher reads."""

    __tablename__ = "advisories"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    modified: Mapped[datetime] = mapped_column(UTCDateTime())
    """OSV's ``modified``: a sync replaces a record only with a newer one."""
    withdrawn: Mapped[bool] = mapped_column(default=False)
    record: Mapped[str] = mapped_column(Text)
    """The compact advisory as JSON text, decoded only for the packages an audit needs."""
    synced: Mapped[datetime] = mapped_column(UTCDateTime())


class AdvisoryPackageRow(Base):
    """A package an advisory affects: the index an audit finds advisories by."""

    __tablename__ = "advisory_packages"
    __table_args__ = (Index("ix_advisory_packages_name", "name"),)

    advisory_id: Mapped[str] = mapped_column(ForeignKey("advisories.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)


class VulnerabilityRow(Base):
    """An advisory that affects a component of a version, from the audit that first found it."""

    __tablename__ = "vulnerabilities"
    # No unique key: an issue resolved and found again later is a new row beside the resolved one.
    __table_args__ = (Index("ix_vulnerabilities_component", "component"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    advisory_id: Mapped[str] = mapped_column(String(100))
    component: Mapped[str] = mapped_column(String(200))
    component_version: Mapped[str] = mapped_column(String(100))
    ids: Mapped[str] = mapped_column(Text)
    """The advisory's id and its aliases, space-separated: what tells a known issue from a new one."""
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The vulnerability as JSON: advisory, aliases, summary, severity, fixed versions."""
    found: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When an audit stopped finding it (the advisory withdrawn or corrected); None while it holds."""
    notified: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the watch told people about it; None until then (the gate's own findings start told)."""


class UpstreamRow(Base):
    """What the watch last saw upstream of a model: the state the next run compares against."""

    __tablename__ = "upstream"

    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    """The tracked source (``hf://org/name@main``)."""
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Revision, licences, gating, ``new_version`` and files, as the source reported them."""
    checked: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertRow(Base):
    """One alert of the monitor: a rule's condition on one model version (and column), and its state."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(16), unique=True)
    """Rule name and identifying labels, hashed: one row per alert, however often it fires."""
    rule: Mapped[str] = mapped_column(String(100))
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    annotations: Mapped[dict[str, str]] = mapped_column(JSON)
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    value: Mapped[float]
    active_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notified: Mapped[str | None] = mapped_column(String(16))
    """The state people were last told of; None before they were told anything."""


class UserRow(Base):
    """A person or service that signs in to the server with tokens."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    domains: Mapped[list[str]] = mapped_column(JSON)
    """A reviewer's domains (``security``, ``legal``, ...); empty for other roles."""
    disabled: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime())

    tokens: Mapped[list[TokenRow]] = relationship(back_populates="user", order_by="TokenRow.created")


class TokenRow(Base):
    """An API token: the SHA-256 of its secret, never the secret."""

    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 (hex) of the whole secret."""
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[UserRow] = relationship(back_populates="tokens")


class AuditRow(Base):
    """One entry of the append-only audit log, chained to the one before by hash."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(400))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """Unique: two entries chained to the same predecessor would fork the chain."""
    hash: Mapped[str] = mapped_column(String(64))
