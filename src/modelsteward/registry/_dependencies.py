"""What the registry keeps for dependency audits: components of versions, advisories, vulnerabilities.

The registry stores and finds; matching advisories to components is the dependencies check's work,
done outside (``modelsteward.watch``) and handed back here as results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from modelsteward.core import Component, Origin, Vulnerability
from modelsteward.registry import _audit
from modelsteward.registry._schema import (
    AdvisoryPackageRow,
    AdvisoryRow,
    ComponentRow,
    ModelRow,
    VersionRow,
    VulnerabilityRow,
)
from modelsteward.registry._values import (
    AdvisorySync,
    AffectedVersion,
    ComponentUse,
    RegistryInputError,
    StoredAdvisory,
    VulnerabilityChanges,
)

_AUDITED = (Origin.REQUIREMENT.value, Origin.ENVIRONMENT.value)
# Rows per INSERT: under SQLite's limit of bound parameters whatever the row width.
_CHUNK = 2000


def store_components(session: Session, version_id: int, components: Sequence[Component]) -> None:
    """Keep the components of a new version."""
    rows = [
        {
            "version_id": version_id,
            "name": c.name,
            "version": c.version,
            "origin": c.origin.value,
            "specifier": c.specifier,
            "evidence": c.evidence,
        }
        for c in components
    ]
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(ComponentRow), rows[start : start + _CHUNK])


def components(session: Session, version_id: int) -> tuple[Component, ...]:
    """The components kept for a version, in the order they were found."""
    rows = session.scalars(
        select(ComponentRow).where(ComponentRow.version_id == version_id).order_by(ComponentRow.id)
    )
    return tuple(
        Component(r.name, Origin(r.origin), r.version, specifier=r.specifier, evidence=r.evidence)
        for r in rows
    )


def component_uses(session: Session, *, advisories: Collection[str] | None) -> list[ComponentUse]:
    """Audited components that some stored advisory names, each with the versions that have it.

    With ``advisories``, only components those advisories name: an incremental audit's work.
    """
    named = select(AdvisoryPackageRow.name)
    if advisories is not None:
        named = named.where(AdvisoryPackageRow.advisory_id.in_(list(advisories)))
    query = (
        select(ComponentRow.name, ComponentRow.version, ComponentRow.origin, ModelRow.name, VersionRow.number)
        .join(VersionRow, ComponentRow.version_id == VersionRow.id)
        .join(ModelRow, VersionRow.model_id == ModelRow.id)
        .where(
            ComponentRow.version.is_not(None),
            ComponentRow.origin.in_(_AUDITED),
            ComponentRow.name.in_(named.distinct()),
        )
    )
    refs: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for name, version, origin, model, number in session.execute(query):
        if version is not None:  # excluded by the query; said again for the type checker
            refs[(name, version, origin)].add(f"{model}@{number}")
    return [
        ComponentUse(Component(name, Origin(origin), version), tuple(sorted(found)))
        for (name, version, origin), found in sorted(refs.items())
    ]


def store_advisories(
    session: Session, advisories: Iterable[StoredAdvisory], *, now: datetime, actor: str, origin: str
) -> AdvisorySync:
    """Add advisories not stored yet and replace those stored with an older ``modified``."""
    known = {id_: modified for id_, modified in session.execute(select(AdvisoryRow.id, AdvisoryRow.modified))}
    added: dict[str, StoredAdvisory] = {}
    updated: dict[str, StoredAdvisory] = {}
    unchanged = 0
    for advisory in advisories:
        if not advisory.id.strip():
            raise RegistryInputError("an advisory without an id cannot be stored")
        stored = known.get(advisory.id)
        if stored is not None and stored >= advisory.modified:
            unchanged += 1
            continue
        # A later record of the same id in one batch wins, as a later sync would.
        (added if stored is None else updated)[advisory.id] = advisory
        known[advisory.id] = advisory.modified
    if updated:
        ids = list(updated)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            session.execute(delete(AdvisoryPackageRow).where(AdvisoryPackageRow.advisory_id.in_(chunk)))
            session.execute(delete(AdvisoryRow).where(AdvisoryRow.id.in_(chunk)))
    fresh = [*added.values(), *updated.values()]
    rows = [
        {"id": a.id, "modified": a.modified, "withdrawn": a.withdrawn, "record": a.record, "synced": now}
        for a in fresh
    ]
    packages = [{"advisory_id": a.id, "name": name} for a in fresh for name in sorted(set(a.packages))]
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(AdvisoryRow), rows[start : start + _CHUNK])
    for start in range(0, len(packages), _CHUNK):
        session.execute(insert(AdvisoryPackageRow), packages[start : start + _CHUNK])
    result = AdvisorySync(
        added=tuple(sorted(added)), updated=tuple(sorted(updated)), unchanged=unchanged, total=len(known)
    )
    payload = {"from": origin, "added": len(added), "updated": len(updated), "unchanged": unchanged}
    _audit.append(
        session, at=now, actor=actor, action="advisories.sync", subject="advisories", payload=payload
    )
    return result


def advisory_records(session: Session, names: Collection[str] | None) -> dict[str, list[str]]:
    """Package name -> the compact records of the advisories in force that affect it.

    ``names`` None means every package: all advisories, for an audit of everything.
    """
    query = (
        select(AdvisoryPackageRow.name, AdvisoryRow.record)
        .join(AdvisoryRow, AdvisoryPackageRow.advisory_id == AdvisoryRow.id)
        .where(~AdvisoryRow.withdrawn)
    )
    found: dict[str, list[str]] = defaultdict(list)
    if names is None:
        for name, record in session.execute(query):
            found[name].append(record)
        return found
    wanted = sorted(set(names))
    for start in range(0, len(wanted), _CHUNK):
        for name, record in session.execute(
            query.where(AdvisoryPackageRow.name.in_(wanted[start : start + _CHUNK]))
        ):
            found[name].append(record)
    return found


def advisory_count(session: Session) -> int:
    """How many advisories are stored, withdrawn ones included."""
    return session.scalar(select(func.count()).select_from(AdvisoryRow)) or 0


def record_found(
    session: Session, version_id: int, vulnerabilities: Sequence[Vulnerability], *, now: datetime
) -> None:
    """Keep what the gate found when admitting a new version, so no later audit finds it again.

    It is not marked as told: an admission by the watch is unattended, so the watch tells it.
    """
    rows = {
        (v.advisory, v.component.name, v.component.version): _row(version_id, v, now, v.to_json())
        for v in vulnerabilities
    }
    if rows:
        session.execute(insert(VulnerabilityRow), list(rows.values()))


def reconcile(
    session: Session,
    found: Iterable[tuple[str, Vulnerability]],
    *,
    scope: Collection[str] | None,
    now: datetime,
    actor: str,
) -> VulnerabilityChanges:
    """Bring the record in line with an audit's ``(ref, vulnerability)`` results.

    ``scope`` names the advisories the audit looked at (None: all of them): a vulnerability on record
    within the scope that the audit no longer finds is resolved; one outside it is left alone. A
    vulnerability is the same one as on record when the component matches and any id or alias is
    shared, so a record that gains an alias is not news.
    """
    versions = _version_ids(session)
    # (version, component, its version) -> (row id, every id of the issue) of what is on record
    on_record: dict[tuple[int, str, str], list[tuple[int, frozenset[str]]]] = defaultdict(list)
    in_scope: list[int] = []
    audited = None if scope is None else frozenset(scope)
    for row_id, row_version, name, version, listed in _open_rows(session, audited):
        known = frozenset(listed.split())
        on_record[(row_version, name, version)].append((row_id, known))
        if audited is None or not audited.isdisjoint(known):
            in_scope.append(row_id)
    matched: set[int] = set()
    new: list[tuple[str, int, Vulnerability]] = []
    pending: dict[tuple[int, str, str], list[frozenset[str]]] = defaultdict(list)
    for ref, vulnerability in found:
        version_id = versions.get(ref)
        if version_id is None:
            raise RegistryInputError(f"no version {ref} to record a vulnerability of")
        ids = frozenset(vulnerability.ids)
        component = vulnerability.component
        key = (version_id, component.name, component.version or "")
        # Every row on record of this issue holds: one finding may merge records kept apart before.
        same = [row_id for row_id, known in on_record[key] if known & ids]
        if same:
            matched.update(same)
        elif not any(known & ids for known in pending[key]):
            # The same issue found twice in one audit (a pin and an install at one version) is one.
            pending[key].append(ids)
            new.append((ref, version_id, vulnerability))
    gone = [row_id for row_id in in_scope if row_id not in matched]
    resolved = _resolve_rows(session, gone, now, {vid: ref for ref, vid in versions.items()})
    # One issue of one component is usually found in many versions: describe it once.
    details: dict[int, dict[str, Any]] = {}
    for start in range(0, len(new), _CHUNK):
        rows = [
            _row(vid, v, now, details.setdefault(id(v), v.to_json()))
            for _, vid, v in new[start : start + _CHUNK]
        ]
        session.execute(insert(VulnerabilityRow), rows)
    changes = VulnerabilityChanges(
        found=tuple(AffectedVersion(ref, v, now) for ref, _, v in new),
        resolved=resolved,
        holding=len(matched),
    )
    _audit.append_many(session, at=now, actor=actor, entries=list(_audit_entries(changes)))
    return changes


def _open_rows(session: Session, scope: frozenset[str] | None) -> Iterable[tuple[int, int, str, str, str]]:
    """Open vulnerabilities (id, version, component, its version, ids) that an audit of ``scope`` can touch.

    An advisory's vulnerabilities are of the packages it names, now or before an update: with a
    scope, only rows of those packages are read, not the whole record.
    """
    columns = (
        VulnerabilityRow.id,
        VulnerabilityRow.version_id,
        VulnerabilityRow.component,
        VulnerabilityRow.component_version,
        VulnerabilityRow.ids,
    )
    query = select(*columns).where(VulnerabilityRow.resolved.is_(None))
    if scope is None:
        return [(r[0], r[1], r[2], r[3], r[4]) for r in session.execute(query)]
    ids = sorted(scope)
    names: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        names.update(
            session.scalars(select(AdvisoryPackageRow.name).where(AdvisoryPackageRow.advisory_id.in_(chunk)))
        )
        names.update(
            session.scalars(select(VulnerabilityRow.component).where(VulnerabilityRow.advisory_id.in_(chunk)))
        )
    rows: list[tuple[int, int, str, str, str]] = []
    wanted = sorted(names)
    for start in range(0, len(wanted), _CHUNK):
        chosen = query.where(VulnerabilityRow.component.in_(wanted[start : start + _CHUNK]))
        rows += [(r[0], r[1], r[2], r[3], r[4]) for r in session.execute(chosen)]
    return rows


def _resolve_rows(
    session: Session, ids: list[int], now: datetime, refs: Mapping[int, str]
) -> tuple[AffectedVersion, ...]:
    """Mark rows resolved at ``now`` and return them."""
    resolved: list[AffectedVersion] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(update(VulnerabilityRow).where(VulnerabilityRow.id.in_(chunk)).values(resolved=now))
        rows = session.execute(
            select(VulnerabilityRow.version_id, VulnerabilityRow.detail, VulnerabilityRow.found)
            .where(VulnerabilityRow.id.in_(chunk))
            .order_by(VulnerabilityRow.id)
        )
        resolved += [
            AffectedVersion(refs[vid], Vulnerability.from_json(detail), found, now)
            for vid, detail, found in rows
        ]
    return tuple(resolved)


def unnotified(session: Session) -> list[AffectedVersion]:
    """Open vulnerabilities nobody was told about yet, oldest first."""
    query = (
        select(VulnerabilityRow.detail, VulnerabilityRow.found, ModelRow.name, VersionRow.number)
        .join(VersionRow, VulnerabilityRow.version_id == VersionRow.id)
        .join(ModelRow, VersionRow.model_id == ModelRow.id)
        .where(VulnerabilityRow.resolved.is_(None), VulnerabilityRow.notified.is_(None))
        .order_by(VulnerabilityRow.id)
    )
    return [
        AffectedVersion(f"{model}@{number}", Vulnerability.from_json(detail), found)
        for detail, found, model, number in session.execute(query)
    ]


def mark_notified(session: Session, told: Sequence[AffectedVersion], *, now: datetime) -> None:
    """Record that ``told`` (from :func:`unnotified`) reached someone."""
    versions = _version_ids(session)
    for item in told:
        component = item.vulnerability.component
        session.execute(
            update(VulnerabilityRow)
            .where(
                VulnerabilityRow.version_id == versions[item.ref],
                VulnerabilityRow.advisory_id == item.vulnerability.advisory,
                VulnerabilityRow.component == component.name,
                VulnerabilityRow.component_version == (component.version or ""),
                VulnerabilityRow.notified.is_(None),
            )
            .values(notified=now)
        )


def _version_ids(session: Session) -> dict[str, int]:
    """``NAME@NUMBER`` -> version id, for every version."""
    query = select(VersionRow.id, ModelRow.name, VersionRow.number).join(ModelRow)
    return {f"{model}@{number}": vid for vid, model, number in session.execute(query)}


def vulnerabilities(session: Session, version_id: int, ref: str, *, resolved: bool) -> list[AffectedVersion]:
    """The vulnerabilities on record for a version, open ones only unless ``resolved``."""
    query = select(VulnerabilityRow).where(VulnerabilityRow.version_id == version_id)
    if not resolved:
        query = query.where(VulnerabilityRow.resolved.is_(None))
    return [
        AffectedVersion(ref, Vulnerability.from_json(row.detail), row.found, row.resolved)
        for row in session.scalars(query.order_by(VulnerabilityRow.id))
    ]


def _row(
    version_id: int, vulnerability: Vulnerability, now: datetime, detail: dict[str, Any]
) -> dict[str, Any]:
    component = vulnerability.component
    return {
        "version_id": version_id,
        "advisory_id": vulnerability.advisory,
        "component": component.name,
        "component_version": component.version or "",
        "ids": " ".join(vulnerability.ids),
        "detail": detail,
        "found": now,
        "resolved": None,
        "notified": None,
    }


def _audit_entries(changes: VulnerabilityChanges) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
    """One entry per version and kind of change, naming the advisories and components."""
    for action, affected in (
        ("vulnerability.found", changes.found),
        ("vulnerability.resolved", changes.resolved),
    ):
        by_ref: dict[str, list[AffectedVersion]] = defaultdict(list)
        for item in affected:
            by_ref[item.ref].append(item)
        for ref, items in by_ref.items():
            listed = [
                {
                    "advisory": i.vulnerability.advisory,
                    "component": i.vulnerability.component.name,
                    "version": i.vulnerability.component.version,
                    "severity": None if i.vulnerability.severity is None else i.vulnerability.severity.label,
                }
                for i in items
            ]
            yield action, ref, {"vulnerabilities": listed}
