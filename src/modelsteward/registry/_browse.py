"""Pages of models, versions, audit entries and vulnerabilities for the server's read path.

Each answer is one statement of small indexed subqueries, its tags, aliases and approvals gathered
as JSON (see _aggregate.py): no manifests or admission records are loaded for list items. A page
carries its total; a page past the end has no rows to carry it, so only then is it counted separately.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Connection, Integer, Select, bindparam, exists, func, select
from sqlalchemy.orm import Session, aliased

from modelsteward.core import Verdict, Vulnerability
from modelsteward.registry import _audit
from modelsteward.registry._aggregate import JSONList, JSONRow, items, moment
from modelsteward.registry._schema import (
    AliasEventRow,
    ApprovalRow,
    AuditRow,
    ModelRow,
    TagRow,
    VersionRow,
    VulnerabilityRow,
)
from modelsteward.registry._values import (
    AffectedVersion,
    Approval,
    AuditEntry,
    ModelSummary,
    RegistryError,
)

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
        .correlate(ModelRow)
        .scalar_subquery()
    )


# Where an alias points now is its latest move; a removal's move points nowhere (no version).
_MOVE = aliased(AliasEventRow, name="move")
_LATER = aliased(AliasEventRow, name="later")
_TARGET = aliased(VersionRow, name="target")
_CURRENT_MOVE = _MOVE.id == (
    select(func.max(_LATER.id))
    .where(_LATER.model_id == _MOVE.model_id, _LATER.alias == _MOVE.alias)
    .correlate(_MOVE)
    .scalar_subquery()
)
# Correlated JSON columns: a model's aliases as [alias, number]; a version's aliases, tags and
# approvals as [id, role, actor, at, comment, decision].
_MODEL_ALIASES = (
    select(JSONList(JSONRow(_MOVE.alias, _TARGET.number)))
    .join(_TARGET, _MOVE.version_id == _TARGET.id)
    .where(_MOVE.model_id == ModelRow.id, _CURRENT_MOVE)
    .correlate(ModelRow)
    .scalar_subquery()
)
_VERSION_ALIASES = (
    select(JSONList(_MOVE.alias))
    .where(_MOVE.model_id == VersionRow.model_id, _MOVE.version_id == VersionRow.id, _CURRENT_MOVE)
    .correlate(VersionRow)
    .scalar_subquery()
)
_VERSION_TAGS = (
    select(JSONList(TagRow.tag))
    .where(TagRow.version_id == VersionRow.id)
    .correlate(VersionRow)
    .scalar_subquery()
)
_VERSION_APPROVALS = (
    select(
        JSONList(
            JSONRow(
                ApprovalRow.id,
                ApprovalRow.role,
                ApprovalRow.actor,
                ApprovalRow.at,
                ApprovalRow.comment,
                ApprovalRow.decision,
            )
        )
    )
    .where(ApprovalRow.version_id == VersionRow.id)
    .correlate(VersionRow)
    .scalar_subquery()
)

# The statements are built once, with bound parameters: building a SQLAlchemy statement costs more
# than SQLite takes to run one of these, and a statement built once is also compiled once (cached).
# Each answer is one statement, so that on PostgreSQL it is one round trip and needs no transaction.
# A page's bounds are written into the statement's text, not bound: PostgreSQL then plans a prepared
# statement once (a generic plan); with them bound it plans each execution anew, which for these
# statements takes longer than running them.
_LIMIT = bindparam("limit", type_=Integer(), literal_execute=True)
_OFFSET = bindparam("offset", type_=Integer(), literal_execute=True)
_LATEST_VERDICT = _latest(VersionRow.verdict)
_MODEL_SUMMARY = (
    ModelRow.created.label("model_created"),
    ModelRow.archived.label("model_archived"),
    select(func.count(VersionRow.id))
    .where(VersionRow.model_id == ModelRow.id)
    .correlate(ModelRow)
    .scalar_subquery()
    .label("model_versions"),
    _latest(VersionRow.number).label("model_latest"),
    _LATEST_VERDICT.label("model_verdict"),
    _MODEL_ALIASES.label("model_aliases"),
)
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
        matching = select(ModelRow.id).where(*where)
        count = select(func.count()).select_from(matching.subquery())
        # The total as an uncorrelated subquery (worked out once), not count(*) OVER (): the window
        # would make the database work out every matching model's latest version and verdict.
        page = (
            select(
                ModelRow.name,
                *_MODEL_SUMMARY,
                count.scalar_subquery().label("total"),
            )
            .where(*where)
            .order_by(ModelRow.name)
            .limit(_LIMIT)
            .offset(_OFFSET)
        )
        _PAGES[key] = (page, count)
    return _PAGES[key]


def models_page(
    connection: Connection,
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
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if q:
        params["pattern"] = f"%{_escape_like(q).lower()}%"
    if verdict is not None:
        params["verdict"] = verdict
    if tag is not None:
        params["tag"] = tag
    rows = connection.execute(page, params).all()
    total = rows[0].total if rows else connection.execute(count, params).scalar_one()
    return Page(tuple(_model(row) for row in rows), total, limit, offset)


def _model(row: Any) -> ModelSummary:
    return ModelSummary(
        name=row.name,
        versions=row.model_versions,
        latest=row.model_latest,
        verdict=None if row.model_verdict is None else Verdict(row.model_verdict),
        aliases=dict(sorted((alias, number) for alias, number in items(row.model_aliases))),
        created=row.model_created,
        archived=row.model_archived,
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
        _VERSION_TAGS.label("tags"),
        _VERSION_ALIASES.label("aliases"),
    )
    .join(ModelRow, VersionRow.model_id == ModelRow.id)
    .outerjoin(_PARENT, VersionRow.derived_from_id == _PARENT.c.id)
    .outerjoin(_PARENT_MODEL, _PARENT.c.model_id == _PARENT_MODEL.c.id)
)
_VERSIONS_OF = (
    _VERSION_COLUMNS.add_columns(func.count().over().label("total"))
    .where(ModelRow.name == bindparam("name"))
    .order_by(VersionRow.number.desc())
    .limit(_LIMIT)
    .offset(_OFFSET)
)
# A model and its newest versions: the model's columns repeat on each version's row.
_MODEL_DETAIL = _VERSIONS_OF.add_columns(*_MODEL_SUMMARY)
_VERSION_COUNT = select(func.count(VersionRow.id)).where(VersionRow.model_id == bindparam("model_id"))
_ONE_VERSION = _VERSION_COLUMNS.add_columns(_VERSION_APPROVALS.label("approvals"))
_VERSION_BY_NUMBER = _ONE_VERSION.where(
    ModelRow.name == bindparam("name"), VersionRow.number == bindparam("number")
)
_ALIAS_EVENT = (
    select(func.max(AliasEventRow.id))
    .join(ModelRow, AliasEventRow.model_id == ModelRow.id)
    .where(ModelRow.name == bindparam("name"), AliasEventRow.alias == bindparam("alias"))
    .scalar_subquery()
)
_VERSION_BY_ALIAS = (
    _ONE_VERSION.join(AliasEventRow, AliasEventRow.version_id == VersionRow.id)
    .where(ModelRow.name == bindparam("name"))
    .where(AliasEventRow.id == _ALIAS_EVENT)
)


def versions_page(connection: Connection, name: str, *, limit: int, offset: int) -> Page[VersionSummary]:
    """The versions of model ``name``, newest first; RegistryError if there is no such model."""
    limit, offset = _bounds(limit, offset)
    rows = connection.execute(_VERSIONS_OF, {"name": name, "limit": limit, "offset": offset}).all()
    if rows:
        total = rows[0].total
    else:
        model_id = connection.execute(_MODEL_ID, {"name": name}).scalar()
        if model_id is None:
            raise RegistryError(f"no model named {name}")
        total = connection.execute(_VERSION_COUNT, {"model_id": model_id}).scalar_one()
    return Page(tuple(_summary(row) for row in rows), total, limit, offset)


def model_detail(
    connection: Connection, name: str, *, recent: int
) -> tuple[ModelSummary, Page[VersionSummary]]:
    """Model ``name`` at a glance and its ``recent`` newest versions; RegistryError if there is no
    such model."""
    limit, _ = _bounds(recent, 0)
    rows = connection.execute(_MODEL_DETAIL, {"name": name, "limit": limit, "offset": 0}).all()
    if not rows:
        # Every model has a version (registering makes both), so no rows means no model.
        raise RegistryError(f"no model named {name}")
    return _model(rows[0]), Page(tuple(_summary(row) for row in rows), rows[0].total, limit, 0)


def version_summary(
    connection: Connection, name: str, *, number: int | None = None, alias: str | None = None
) -> VersionSummary:
    """Version ``number`` of ``name``, or the one its ``alias`` points at, with tags, aliases and
    approvals; RegistryError naming what is missing."""
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
        Approval(role=role, actor=actor, at=moment(at), comment=comment, decision=decision)
        for _id, role, actor, at, comment, decision in sorted(items(row.approvals))
    )
    return dataclasses.replace(_summary(row), approvals=approvals)


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
        where.append(
            (AuditRow.subject == subject) | AuditRow.subject.like(f"{_escape_like(subject)}@%", escape="\\")
        )
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


def vulnerabilities_page(
    session: Session,
    *,
    model: str | None = None,
    advisory: str | None = None,
    status: str = "open",
    limit: int,
    offset: int,
) -> Page[AffectedVersion]:
    """Vulnerabilities on record, by model name, newest version first: of ``model`` only, matching
    ``advisory`` (its id or an alias, any case), ``open`` (still holding), ``resolved`` or ``all``;
    RegistryError if ``model`` names no model."""
    limit, offset = _bounds(limit, offset)
    where: list[ColumnElement[bool]] = []
    if model is not None:
        where.append(ModelRow.name == model)
    if status == "open":
        where.append(VulnerabilityRow.resolved.is_(None))
    elif status == "resolved":
        where.append(VulnerabilityRow.resolved.is_not(None))
    if advisory is not None:
        # ``ids`` holds the advisory's id and aliases, space-separated: match one of them whole.
        spaced = " " + func.lower(VulnerabilityRow.ids) + " "
        where.append(spaced.like(f"% {_escape_like(advisory.strip().lower())} %", escape="\\"))
    query = (
        select(VulnerabilityRow, ModelRow.name, VersionRow.number, func.count().over().label("total"))
        .join(VersionRow, VulnerabilityRow.version_id == VersionRow.id)
        .join(ModelRow, VersionRow.model_id == ModelRow.id)
        .where(*where)
        .order_by(ModelRow.name, VersionRow.number.desc(), VulnerabilityRow.id)
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(query).all()
    if rows:
        total = rows[0].total
    else:
        if model is not None and session.execute(_MODEL_ID, {"name": model}).scalar() is None:
            raise RegistryError(f"no model named {model}")
        total = _count(session, select(VulnerabilityRow.id).join(VersionRow).join(ModelRow).where(*where))
    items = tuple(
        AffectedVersion(f"{name}@{number}", Vulnerability.from_json(row.detail), row.found, row.resolved)
        for row, name, number, _total in rows
    )
    return Page(items, total, limit, offset)


def _escape_like(text: str) -> str:
    """``text`` matched literally by LIKE ... ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _summary(row: Any) -> VersionSummary:
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
        aliases=tuple(sorted(items(row.aliases))),
        tags=tuple(sorted(items(row.tags))),
    )
