"""Pages of models, versions and audit entries for the server's read path.

Each page is a few small indexed queries: no manifests or admission records are loaded for list
items. A page of versions or audit entries carries its total (``count(*) OVER ()``); a page past the
end has no rows to carry it, so only then is it counted separately. A page of models is always counted
separately: there the window would make the database work out every matching model's latest verdict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, select
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


# The statements are built once, with bound parameters: building a SQLAlchemy statement costs more
# than SQLite takes to run one of these, and a statement built once is also compiled once (cached).
_LATEST_VERDICT = _latest(VersionRow.verdict)
_MODEL_COLUMNS = select(
    ModelRow.id,
    ModelRow.name,
    ModelRow.created,
    ModelRow.archived,
    select(func.count(VersionRow.id))
    .where(VersionRow.model_id == ModelRow.id)
    .scalar_subquery()
    .label("versions"),
    _latest(VersionRow.number).label("latest"),
    _LATEST_VERDICT.label("verdict"),
)
_MODEL_BY_NAME = _MODEL_COLUMNS.where(ModelRow.name == bindparam("name"))
_MODEL_ID = select(ModelRow.id).where(ModelRow.name == bindparam("name"))
_TAGGED = exists(
    select(TagRow.tag)
    .join(VersionRow, TagRow.version_id == VersionRow.id)
    .where(VersionRow.model_id == ModelRow.id, TagRow.tag == bindparam("tag"))
)
_PAGES: dict[tuple[bool, bool, bool], tuple[Any, Any]] = {}


def _models_statements(q: bool, verdict: bool, tag: bool) -> tuple[Any, Any]:
    """The page and count statements of the filters in use (one pair for each of 8 combinations)."""
    key = (q, verdict, tag)
    if key not in _PAGES:
        where: list[ColumnElement[bool]] = []
        if q:
            where.append(func.lower(ModelRow.name).like(bindparam("pattern"), escape="\\"))
        if verdict:
            where.append(bindparam("verdict") == _LATEST_VERDICT)
        if tag:
            where.append(_TAGGED)
        # The total by its own count, not count(*) OVER (): the window would make the database work out
        # every matching model's latest version and verdict, not only the page's.
        page = (
            _MODEL_COLUMNS.where(*where)
            .order_by(ModelRow.name)
            .limit(bindparam("limit"))
            .offset(bindparam("offset"))
        )
        count = select(func.count()).select_from(select(ModelRow.id).where(*where).subquery())
        _PAGES[key] = (page, count)
    return _PAGES[key]


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
    page, count = _models_statements(bool(q), verdict is not None, tag is not None)
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if q:
        params["pattern"] = f"%{escaped.lower()}%"
    if verdict is not None:
        params["verdict"] = verdict
    if tag is not None:
        params["tag"] = tag
    connection = session.connection()
    rows = connection.execute(page, params).all()
    total = connection.execute(count, params).scalar_one()
    aliases = _model_aliases(session, [row.id for row in rows])
    items = tuple(_model(row, aliases.get(row.id, {})) for row in rows)
    return Page(items, total, limit, offset)


def model_summary(session: Session, name: str) -> ModelSummary:
    """One model at a glance; RegistryError if there is none of that name."""
    row = session.connection().execute(_MODEL_BY_NAME, {"name": name}).first()
    if row is None:
        raise RegistryError(f"no model named {name}")
    return _model(row, _model_aliases(session, [row.id]).get(row.id, {}))


def _model(row: Any, aliases: dict[str, int]) -> ModelSummary:
    return ModelSummary(
        name=row.name,
        versions=row.versions,
        latest=row.latest,
        verdict=None if row.verdict is None else Verdict(row.verdict),
        aliases=aliases,
        created=row.created,
        archived=row.archived,
    )


_PARENT = select(VersionRow.id, VersionRow.number, VersionRow.model_id).subquery("parent")
_PARENT_MODEL = select(ModelRow.id, ModelRow.name).subquery("parent_model")
_VERSION_COLUMNS = (
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
_VERSIONS_OF = (
    _VERSION_COLUMNS.add_columns(func.count().over().label("total"))
    .where(ModelRow.name == bindparam("name"))
    .order_by(VersionRow.number.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_VERSION_COUNT = select(func.count(VersionRow.id)).where(VersionRow.model_id == bindparam("model_id"))
_VERSION_BY_NUMBER = _VERSION_COLUMNS.where(
    ModelRow.name == bindparam("name"), VersionRow.number == bindparam("number")
)
_ALIAS_EVENT = (
    select(func.max(AliasEventRow.id))
    .join(ModelRow, AliasEventRow.model_id == ModelRow.id)
    .where(ModelRow.name == bindparam("name"), AliasEventRow.alias == bindparam("alias"))
    .scalar_subquery()
)
_VERSION_BY_ALIAS = (
    _VERSION_COLUMNS.join(AliasEventRow, AliasEventRow.version_id == VersionRow.id)
    .where(ModelRow.name == bindparam("name"))
    .where(AliasEventRow.id == _ALIAS_EVENT)
)
_APPROVALS = (
    select(ApprovalRow.role, ApprovalRow.actor, ApprovalRow.at, ApprovalRow.comment, ApprovalRow.decision)
    .where(ApprovalRow.version_id == bindparam("version_id"))
    .order_by(ApprovalRow.id)
)


def versions_page(session: Session, name: str, *, limit: int, offset: int) -> Page[VersionSummary]:
    """The versions of model ``name``, newest first; RegistryError if there is no such model."""
    limit, offset = _bounds(limit, offset)
    connection = session.connection()
    rows = connection.execute(_VERSIONS_OF, {"name": name, "limit": limit, "offset": offset}).all()
    if rows:
        total = rows[0].total
    else:
        model_id = connection.execute(_MODEL_ID, {"name": name}).scalar()
        if model_id is None:
            raise RegistryError(f"no model named {name}")
        total = connection.execute(_VERSION_COUNT, {"model_id": model_id}).scalar_one()
    ids = [row.id for row in rows]
    tags, aliases = _tags(session, ids), _version_aliases(session, ids)
    items = tuple(_summary(row, tags.get(row.id, ()), aliases.get(row.id, ())) for row in rows)
    return Page(items, total, limit, offset)


def model_detail(session: Session, name: str, *, recent: int) -> tuple[ModelSummary, Page[VersionSummary]]:
    """Model ``name`` at a glance and its ``recent`` newest versions, in four queries (the versions'
    aliases are the model's); RegistryError if there is no such model."""
    connection = session.connection()
    row = connection.execute(_MODEL_BY_NAME, {"name": name}).first()
    if row is None:
        raise RegistryError(f"no model named {name}")
    aliases = _model_aliases(session, [row.id]).get(row.id, {})
    limit, _ = _bounds(recent, 0)
    rows = connection.execute(_VERSIONS_OF, {"name": name, "limit": limit, "offset": 0}).all()
    tags = _tags(session, [version.id for version in rows])
    by_number: dict[int, list[str]] = defaultdict(list)
    for alias, number in aliases.items():
        by_number[number].append(alias)
    items = tuple(_summary(v, tags.get(v.id, ()), sorted(by_number.get(v.number, ()))) for v in rows)
    return _model(row, aliases), Page(items, row.versions, limit, 0)


def version_summary(
    session: Session, name: str, *, number: int | None = None, alias: str | None = None
) -> VersionSummary:
    """Version ``number`` of ``name``, or the one its ``alias`` points at, with tags, aliases and
    approvals; RegistryError naming what is missing."""
    connection = session.connection()
    if alias is not None:
        row = connection.execute(_VERSION_BY_ALIAS, {"name": name, "alias": alias}).first()
    else:
        row = connection.execute(_VERSION_BY_NUMBER, {"name": name, "number": number}).first()
    if row is None:
        if connection.execute(_MODEL_ID, {"name": name}).scalar() is None:
            raise RegistryError(f"no model named {name}")
        if alias is not None:
            raise RegistryError(f"{name} has no alias {alias}")
        raise RegistryError(f"{name} has no version {number}")
    approvals = tuple(
        Approval(role=a.role, actor=a.actor, at=a.at, comment=a.comment, decision=a.decision)
        for a in connection.execute(_APPROVALS, {"version_id": row.id})
    )
    tags = _tags(session, [row.id]).get(row.id, ())
    return _summary(row, tags, _version_aliases(session, [row.id]).get(row.id, ()), approvals)


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


def _summary(
    row: Any, tags: Sequence[str], aliases: Sequence[str], approvals: tuple[Approval, ...] = ()
) -> VersionSummary:
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
        approvals=approvals,
    )


_TAGS = (
    select(TagRow.version_id, TagRow.tag)
    .where(TagRow.version_id.in_(bindparam("ids", expanding=True)))
    .order_by(TagRow.tag)
)


def _aliases_among(models: Any) -> Any:
    """(model_id, alias, version_id, number) of every alias of ``models`` that points somewhere now."""
    latest = (
        select(func.max(AliasEventRow.id))
        .where(AliasEventRow.model_id.in_(models))
        .group_by(AliasEventRow.model_id, AliasEventRow.alias)
    )
    return (
        select(AliasEventRow.model_id, AliasEventRow.alias, VersionRow.id, VersionRow.number)
        .join(VersionRow, AliasEventRow.version_id == VersionRow.id)
        .where(AliasEventRow.id.in_(latest))
        .order_by(AliasEventRow.alias)
    )


_MODEL_ALIASES = _aliases_among(bindparam("ids", expanding=True))
# An alias's latest move is only among those of the versions' models: restrict to them.
_VERSION_ALIASES = _aliases_among(
    select(VersionRow.model_id).where(VersionRow.id.in_(bindparam("ids", expanding=True)))
)


def _tags(session: Session, version_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    if not version_ids:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    for version_id, tag in session.connection().execute(_TAGS, {"ids": list(version_ids)}):
        found[version_id].append(tag)
    return {key: tuple(value) for key, value in found.items()}


def _model_aliases(session: Session, model_ids: Collection[int]) -> dict[int, dict[str, int]]:
    if not model_ids:
        return {}
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for model_id, alias, _version_id, number in session.connection().execute(
        _MODEL_ALIASES, {"ids": list(model_ids)}
    ):
        found[model_id][alias] = number
    return dict(found)


def _version_aliases(session: Session, version_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    if not version_ids:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    wanted = set(version_ids)
    for _model_id, alias, version_id, _number in session.connection().execute(
        _VERSION_ALIASES, {"ids": list(version_ids)}
    ):
        if version_id in wanted:
            found[version_id].append(alias)
    return {key: tuple(value) for key, value in found.items()}
