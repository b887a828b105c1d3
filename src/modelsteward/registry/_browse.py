"""Pages of models, versions and audit entries for the server's read path.

Each page is one or two indexed queries: no manifests or admission records are loaded for list items,
and the total comes with the page (``count(*) OVER ()``) rather than from a second scan. A page past
the end has no rows to carry the total, so only then is it counted separately.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.orm import Session

from modelsteward.core import Verdict
from modelsteward.registry import _audit
from modelsteward.registry._schema import (
    AliasEventRow,
    ApprovalRow,
    AuditRow,
    ModelRow,
    TagRow,
    VersionRow,
)
from modelsteward.registry._values import Approval, AuditEntry, ModelSummary, RegistryError

T = TypeVar("T")

MAX_PAGE = 500
"""The most items one page holds, whatever the caller asks for."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a longer list."""

    items: tuple[T, ...]
    total: int
    """How many items the whole list holds."""
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class VersionSummary:
    """A version without its manifest and admission record: what lists and lookups show."""

    name: str
    number: int
    verdict: Verdict
    manifest_digest: str
    source: str
    revision: str | None
    created: datetime
    archived: bool
    submitted_by: str
    derived_from: str | None
    """``NAME@NUMBER`` this version was derived from."""
    documents: dict[str, str]
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    approvals: tuple[Approval, ...] = ()
    """Filled only for a single version (lists leave it empty)."""

    @property
    def ref(self) -> str:
        """``NAME@NUMBER``."""
        return f"{self.name}@{self.number}"


def _bounds(limit: int, offset: int) -> tuple[int, int]:
    return max(0, min(limit, MAX_PAGE)), max(0, offset)


def _latest(column: Any) -> Any:
    """The value of ``column`` on a model's newest version that is not archived (correlated)."""
    return (
        select(column)
        .where(VersionRow.model_id == ModelRow.id, ~VersionRow.archived)
        .order_by(VersionRow.number.desc())
        .limit(1)
        .scalar_subquery()
    )


def models_page(
    session: Session,
    *,
    q: str = "",
    verdict: str | None = None,
    tag: str | None = None,
    limit: int,
    offset: int,
) -> Page[ModelSummary]:
    """Models by name whose name contains ``q`` (any case), whose latest version has ``verdict`` and
    one of whose versions has ``tag``."""
    limit, offset = _bounds(limit, offset)
    latest_verdict = _latest(VersionRow.verdict)
    where: list[ColumnElement[bool]] = []
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(func.lower(ModelRow.name).like(f"%{escaped.lower()}%", escape="\\"))
    if verdict is not None:
        where.append(latest_verdict == verdict)
    if tag is not None:
        tagged = (
            select(TagRow.tag)
            .join(VersionRow, TagRow.version_id == VersionRow.id)
            .where(VersionRow.model_id == ModelRow.id, TagRow.tag == tag)
        )
        where.append(exists(tagged))
    count = select(func.count(VersionRow.id)).where(VersionRow.model_id == ModelRow.id).scalar_subquery()
    query = (
        select(
            ModelRow.id,
            ModelRow.name,
            ModelRow.created,
            ModelRow.archived,
            count.label("versions"),
            _latest(VersionRow.number).label("latest"),
            latest_verdict.label("verdict"),
            func.count().over().label("total"),
        )
        .where(*where)
        .order_by(ModelRow.name)
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(query).all()
    total = rows[0].total if rows else _count(session, select(ModelRow.id).where(*where))
    aliases = _model_aliases(session, [row.id for row in rows])
    items = tuple(
        ModelSummary(
            name=row.name,
            versions=row.versions,
            latest=row.latest,
            verdict=None if row.verdict is None else Verdict(row.verdict),
            aliases=aliases.get(row.id, {}),
            created=row.created,
            archived=row.archived,
        )
        for row in rows
    )
    return Page(items, total, limit, offset)


def model_summary(session: Session, name: str) -> ModelSummary:
    """One model at a glance; RegistryError if there is none of that name."""
    query = select(
        ModelRow.id,
        ModelRow.created,
        ModelRow.archived,
        select(func.count(VersionRow.id)).where(VersionRow.model_id == ModelRow.id).scalar_subquery(),
        _latest(VersionRow.number),
        _latest(VersionRow.verdict),
    ).where(ModelRow.name == name)
    row = session.execute(query).first()
    if row is None:
        raise RegistryError(f"no model named {name}")
    model_id, created, archived, versions, latest, verdict = row
    return ModelSummary(
        name=name,
        versions=versions,
        latest=latest,
        verdict=None if verdict is None else Verdict(verdict),
        aliases=_model_aliases(session, [model_id]).get(model_id, {}),
        created=created,
        archived=archived,
    )


_PARENT = select(VersionRow.id, VersionRow.number, VersionRow.model_id).subquery("parent")
_PARENT_MODEL = select(ModelRow.id, ModelRow.name).subquery("parent_model")


def _version_columns() -> Any:
    return (
        select(
            VersionRow.id,
            ModelRow.name,
            VersionRow.number,
            VersionRow.verdict,
            VersionRow.manifest_digest,
            VersionRow.source,
            VersionRow.revision,
            VersionRow.created,
            VersionRow.archived,
            VersionRow.submitted_by,
            VersionRow.documents,
            _PARENT_MODEL.c.name.label("parent_name"),
            _PARENT.c.number.label("parent_number"),
        )
        .join(ModelRow, VersionRow.model_id == ModelRow.id)
        .outerjoin(_PARENT, VersionRow.derived_from_id == _PARENT.c.id)
        .outerjoin(_PARENT_MODEL, _PARENT.c.model_id == _PARENT_MODEL.c.id)
    )


def versions_page(session: Session, name: str, *, limit: int, offset: int) -> Page[VersionSummary]:
    """The versions of model ``name``, newest first; RegistryError if there is no such model."""
    limit, offset = _bounds(limit, offset)
    query = (
        _version_columns()
        .add_columns(func.count().over().label("total"))
        .where(ModelRow.name == name)
        .order_by(VersionRow.number.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(query).all()
    if rows:
        total = rows[0].total
    else:
        model_id = session.scalar(select(ModelRow.id).where(ModelRow.name == name))
        if model_id is None:
            raise RegistryError(f"no model named {name}")
        total = _count(session, select(VersionRow.id).where(VersionRow.model_id == model_id))
    ids = [row.id for row in rows]
    tags, aliases = _tags(session, ids), _version_aliases(session, ids)
    items = tuple(_summary(row, tags.get(row.id, ()), aliases.get(row.id, ())) for row in rows)
    return Page(items, total, limit, offset)


def version_summary(
    session: Session, name: str, *, number: int | None = None, alias: str | None = None
) -> VersionSummary:
    """Version ``number`` of ``name``, or the one its ``alias`` points at, with tags, aliases and
    approvals; RegistryError naming what is missing."""
    query = _version_columns().where(ModelRow.name == name)
    if alias is not None:
        latest = (
            select(func.max(AliasEventRow.id))
            .join(ModelRow, AliasEventRow.model_id == ModelRow.id)
            .where(ModelRow.name == name, AliasEventRow.alias == alias)
            .scalar_subquery()
        )
        query = query.join(AliasEventRow, and_(AliasEventRow.version_id == VersionRow.id)).where(
            AliasEventRow.id == latest
        )
    else:
        query = query.where(VersionRow.number == number)
    row = session.execute(query).first()
    if row is None:
        if session.scalar(select(ModelRow.id).where(ModelRow.name == name)) is None:
            raise RegistryError(f"no model named {name}")
        if alias is not None:
            raise RegistryError(f"{name} has no alias {alias}")
        raise RegistryError(f"{name} has no version {number}")
    approvals = tuple(
        Approval(role=a.role, actor=a.actor, at=a.at, comment=a.comment, decision=a.decision)
        for a in session.scalars(
            select(ApprovalRow).where(ApprovalRow.version_id == row.id).order_by(ApprovalRow.id)
        )
    )
    summary = _summary(
        row, _tags(session, [row.id]).get(row.id, ()), _version_aliases(session, [row.id]).get(row.id, ())
    )
    return VersionSummary(**{**_fields(summary), "approvals": approvals})


def audit_page(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    subject: str | None = None,
    limit: int,
    offset: int,
) -> Page[AuditEntry]:
    """Audit entries, newest first, by ``actor``, ``action`` and ``subject`` (a model name matches its
    versions' entries too)."""
    limit, offset = _bounds(limit, offset)
    where: list[ColumnElement[bool]] = []
    if actor is not None:
        where.append(AuditRow.actor == actor)
    if action is not None:
        where.append(AuditRow.action == action)
    if subject is not None:
        escaped = subject.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append((AuditRow.subject == subject) | AuditRow.subject.like(f"{escaped}@%", escape="\\"))
    query = (
        select(AuditRow, func.count().over().label("total"))
        .where(*where)
        .order_by(AuditRow.seq.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(query).all()
    total = rows[0].total if rows else _count(session, select(AuditRow.seq).where(*where))
    return Page(tuple(_audit.to_entry(row[0]) for row in rows), total, limit, offset)


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _fields(summary: VersionSummary) -> dict[str, Any]:
    return {name: getattr(summary, name) for name in VersionSummary.__slots__}


def _summary(row: Any, tags: Sequence[str], aliases: Sequence[str]) -> VersionSummary:
    parent = None if row.parent_name is None else f"{row.parent_name}@{row.parent_number}"
    return VersionSummary(
        name=row.name,
        number=row.number,
        verdict=Verdict(row.verdict),
        manifest_digest=row.manifest_digest,
        source=row.source,
        revision=row.revision,
        created=row.created,
        archived=row.archived,
        submitted_by=row.submitted_by,
        derived_from=parent,
        documents=dict(row.documents),
        aliases=tuple(aliases),
        tags=tuple(tags),
    )


def _tags(session: Session, version_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    if not version_ids:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    query = (
        select(TagRow.version_id, TagRow.tag).where(TagRow.version_id.in_(version_ids)).order_by(TagRow.tag)
    )
    for version_id, tag in session.execute(query):
        found[version_id].append(tag)
    return {key: tuple(value) for key, value in found.items()}


def _current_aliases(session: Session, where: ColumnElement[bool]) -> Sequence[Any]:
    """(model_id, alias, version_id, number) of every alias that points somewhere now, among ``where``."""
    latest = (
        select(func.max(AliasEventRow.id)).where(where).group_by(AliasEventRow.model_id, AliasEventRow.alias)
    )
    query = (
        select(AliasEventRow.model_id, AliasEventRow.alias, VersionRow.id, VersionRow.number)
        .join(VersionRow, AliasEventRow.version_id == VersionRow.id)
        .where(AliasEventRow.id.in_(latest))
        .order_by(AliasEventRow.alias)
    )
    return session.execute(query).all()


def _model_aliases(session: Session, model_ids: Collection[int]) -> dict[int, dict[str, int]]:
    if not model_ids:
        return {}
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for model_id, alias, _version_id, number in _current_aliases(
        session, AliasEventRow.model_id.in_(model_ids)
    ):
        found[model_id][alias] = number
    return dict(found)


def _version_aliases(session: Session, version_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    if not version_ids:
        return {}
    # An alias's latest move is only among those of the versions' models: restrict to them.
    models = select(VersionRow.model_id).where(VersionRow.id.in_(version_ids))
    found: dict[int, list[str]] = defaultdict(list)
    for _model_id, alias, version_id, _number in _current_aliases(
        session, AliasEventRow.model_id.in_(models)
    ):
        if version_id in version_ids:
            found[version_id].append(alias)
    return {key: tuple(value) for key, value in found.items()}
