"""The registry: every operation one transaction, every change written to the audit chain with it."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from alembic.util import CommandError
from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from modelsteward.core import Component, Manifest, Verdict, Vulnerability
from modelsteward.core.manifest import diff_paths
from modelsteward.registry import _alerts, _audit, _browse, _dependencies, _identity
from modelsteward.registry._browse import Page, VersionSummary
from modelsteward.registry._database import Database
from modelsteward.registry._migrate import upgrade
from modelsteward.registry._refs import (
    Ref,
    alias_name,
    artifact_digest,
    document_kind,
    model_name,
    parse_ref,
    role_name,
    tag_name,
)
from modelsteward.registry._schema import (
    AliasEventRow,
    ApprovalRow,
    AuditRow,
    EvaluationRow,
    ModelRow,
    TagRow,
    TokenRow,
    UpstreamRow,
    UserRow,
    VersionRow,
)
from modelsteward.registry._values import (
    AdvisorySync,
    AffectedVersion,
    Alert,
    AlertState,
    Approval,
    AuditEntry,
    AuditProblem,
    AuditReport,
    ComponentUse,
    Description,
    EvaluationRecord,
    IssuedToken,
    ModelSummary,
    Registration,
    RegistryError,
    RegistryInputError,
    Role,
    StoredAdvisory,
    Tamper,
    TokenInfo,
    UpstreamRecord,
    User,
    VersionDiff,
    VersionInfo,
    VulnerabilityChanges,
)


class Registry:
    """Models, their immutable versions, aliases, tags, approvals and the audit log, in one database.

    Open with :meth:`open`; use as a context manager or call :meth:`close`.
    """

    def __init__(self, database: Database) -> None:
        self._db = database

    @classmethod
    def open(cls, url: str) -> Registry:
        """Connect to the database at ``url`` and bring its schema to the newest revision.

        SQLite's folder is made if missing. Raises RegistryError for a bad URL, an unreachable
        database, or a schema newer than this code knows.
        """
        database = Database(url)
        try:
            with database.locked_connection() as connection:
                upgrade(connection)
        except CommandError as error:
            database.dispose()
            raise RegistryError(
                f"registry database {database.shown}: {error}; is ModelSteward up to date?"
            ) from None
        except BaseException:
            database.dispose()
            raise
        return cls(database)

    def close(self) -> None:
        """Release the database connections."""
        self._db.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # Versions

    def register(
        self,
        *,
        name: str,
        manifest: Manifest,
        source: str,
        revision: str | None,
        verdict: Verdict,
        describe: Callable[[int], Description],
        derived_from: str | None = None,
        upstream: str | None = None,
        components: Sequence[Component] = (),
        vulnerabilities: Sequence[Vulnerability] = (),
        actor: str,
    ) -> Registration:
        """Register ``manifest`` as the next version of ``name``, or find it registered already.

        The same content (manifest digest) under the same name is always the same version: the
        existing one is returned with ``new`` False, and the repeat is audited. Only for a new
        version is ``describe`` called, with its number and inside the transaction, for the record
        and documents to keep with it (so they can name the version); ``derived_from`` is a
        reference to the version this one was made from; ``upstream`` the source as the user gave it,
        which the watch follows; ``components`` and ``vulnerabilities`` what the dependencies check
        found, kept so that later audits report only what is new.
        """
        model_name(name)
        parent_ref = None if derived_from is None else parse_ref(derived_from)
        digest = manifest.digest
        with self._db.writing() as session:
            now = _now()
            model = session.scalar(select(ModelRow).where(ModelRow.name == name))
            if model is not None and model.archived:
                raise RegistryError(f"model {name} is archived: register under another name")
            facts = {
                "manifest_digest": digest,
                "source": source,
                "revision": revision,
                "verdict": verdict.value,
            }
            existing = None
            if model is not None:
                same = (VersionRow.model_id == model.id, VersionRow.manifest_digest == digest)
                existing = session.scalar(select(VersionRow).where(*same))
            if existing is not None:
                _record(session, now, actor, "admit.repeat", _ref(existing), facts)
                return Registration(_info(session, existing), new=False)
            parent = None if parent_ref is None else _resolve(session, parent_ref)
            if model is None:
                model = ModelRow(name=name, created=now, archived=False)
                session.add(model)
                session.flush()
            latest = session.scalar(
                select(func.max(VersionRow.number)).where(VersionRow.model_id == model.id)
            )
            number = (latest or 0) + 1
            description = describe(number)
            documents = description.documents
            for kind, address in documents.items():
                document_kind(kind)
                artifact_digest(address)
            row = VersionRow(
                model=model,
                number=number,
                manifest_digest=digest,
                manifest=manifest.to_json(),
                source=source,
                revision=revision,
                upstream=upstream,
                verdict=verdict.value,
                record=dict(description.record),
                documents=dict(documents),
                derived_from=parent,
                created=now,
                archived=False,
                submitted_by=actor,
            )
            session.add(row)
            session.flush()
            _dependencies.store_components(session, row.id, components)
            _dependencies.record_found(session, row.id, vulnerabilities, now=now)
            lineage = None if parent is None else _ref(parent)
            payload = {**facts, "documents": dict(documents), "derived_from": lineage}
            _record(session, now, actor, "admit", _ref(row), payload)
            return Registration(_info(session, row), new=True)

    def get(self, ref: str) -> VersionInfo:
        """The version ``ref`` names: ``NAME`` (latest not archived), ``NAME@3``, ``NAME@ALIAS``."""
        parsed = parse_ref(ref)
        with self._db.reading() as session:
            return _info(session, _resolve(session, parsed))

    def list_models(self) -> list[ModelSummary]:
        """Every registered model, archived ones included, by name."""
        with self._db.reading() as session:
            models = session.scalars(select(ModelRow).order_by(ModelRow.name)).all()
            versions = session.execute(
                select(
                    VersionRow.model_id, VersionRow.number, VersionRow.verdict, VersionRow.archived
                ).order_by(VersionRow.number)
            ).all()
            aliases = _aliases(session)
            counts = Counter(v.model_id for v in versions)
            # In number order, so the newest version stays.
            latest = {v.model_id: v for v in versions if not v.archived}
            by_model: dict[int, dict[str, int]] = defaultdict(dict)
            for alias in aliases:
                by_model[alias.model_id][alias.alias] = alias.number
            return [
                ModelSummary(
                    name=model.name,
                    versions=counts[model.id],
                    latest=latest[model.id].number if model.id in latest else None,
                    verdict=Verdict(latest[model.id].verdict) if model.id in latest else None,
                    aliases=by_model[model.id],
                    created=model.created,
                    archived=model.archived,
                )
                for model in models
            ]

    def diff(self, a: str, b: str) -> VersionDiff:
        """How version ``b`` differs from ``a``: files, verdict and licences."""
        first, second = parse_ref(a), parse_ref(b)
        with self._db.reading() as session:
            old, new = _info(session, _resolve(session, first)), _info(session, _resolve(session, second))
        files = diff_paths({f.path: f for f in old.manifest.files}, {f.path: f for f in new.manifest.files})
        return VersionDiff(
            a=old.ref,
            b=new.ref,
            added=files.extra,
            removed=files.missing,
            changed=files.changed,
            verdicts=(old.verdict, new.verdict),
            licenses=(_licenses(old.record), _licenses(new.record)),
        )

    # Aliases

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        actor: str,
        required_approvals: Collection[str] = (),
    ) -> None:
        """Point ``alias`` of model ``name`` at ``version``; the move is kept for :meth:`rollback`.

        A rejected version takes no alias. With ``required_approvals`` (reviewer domains, from
        :meth:`Policy.required_approvals`), the version must hold an approval in each domain from
        someone other than its submitter, and no rejection that a later approval in its domain did not
        answer; otherwise RegistryError names what is missing.
        """
        alias_name(alias)
        for domain in required_approvals:
            role_name(domain)
        if version < 1:
            raise RegistryInputError(f"bad version {version}: versions are numbered from 1")
        with self._db.writing() as session:
            row = _resolve(session, Ref(model_name(name), number=version))
            _require_live(row, "an alias")
            if row.verdict == Verdict.REJECT.value:
                # An alias is how deployments find a model: one on a rejected version undoes the gate.
                raise RegistryError(f"{_ref(row)} was rejected by the gate: no alias may point at it")
            if required_approvals:
                _require_approvals(row, alias, required_approvals)
            current = _alias_event(session, row.model_id, alias)
            if current is not None and current.version_id == row.id:
                return
            now = _now()
            _move_alias(session, row.model_id, alias, row, basis=current, at=now, actor=actor)
            previous = None if current is None or current.version is None else current.version.number
            payload = {"alias": alias, "version": version, "previous": previous}
            _record(session, now, actor, "alias.set", name, payload)

    def remove_alias(self, name: str, alias: str, *, actor: str) -> None:
        """Remove ``alias`` from model ``name``."""
        alias_name(alias)
        with self._db.writing() as session:
            model = _model(session, model_name(name))
            current, version = _current_alias(session, model, alias)
            now = _now()
            _move_alias(session, model.id, alias, None, basis=current, at=now, actor=actor)
            _record(session, now, actor, "alias.remove", name, {"alias": alias, "version": version.number})

    def rollback(
        self, name: str, alias: str, *, actor: str, required_approvals: Collection[str] = ()
    ) -> VersionInfo:
        """Point ``alias`` back at the version it pointed to before its latest move; return that version.

        Repeated rollbacks walk further back through the alias's history. The version rolled back to
        must meet ``required_approvals`` as :meth:`set_alias` asks: one rejected since it left the alias
        does not come back by a rollback.
        """
        alias_name(alias)
        for domain in required_approvals:
            role_name(domain)
        with self._db.writing() as session:
            model = _model(session, model_name(name))
            current, version = _current_alias(session, model, alias)
            target = current.basis
            while target is not None and target.version_id in (None, current.version_id):
                target = target.basis
            if target is None or target.version is None:
                raise RegistryError(f"{name}@{alias} has no earlier version to roll back to")
            _require_live(target.version, "an alias")
            if required_approvals:
                _require_approvals(target.version, alias, required_approvals)
            now = _now()
            _move_alias(session, model.id, alias, target.version, basis=target.basis, at=now, actor=actor)
            payload = {"alias": alias, "from": version.number, "to": target.version.number}
            _record(session, now, actor, "alias.rollback", name, payload)
            return _info(session, target.version)

    # Archiving, tags, approvals

    def archive(self, ref: str, *, actor: str) -> None:
        """Archive one version (``NAME@N``) or a whole model (``NAME``).

        Archived versions stay readable by number but get no alias or approval, and an archived model
        gets no new version. Refused while an alias points at what would be archived.
        """
        parsed = parse_ref(ref)
        whole_model = parsed.number is None and parsed.alias is None
        with self._db.writing() as session:
            if whole_model:
                model = _model(session, parsed.name)
                if model.archived:
                    return
                rows = [v for v in model.versions if not v.archived]
                aliases = _aliases(session, AliasEventRow.model_id == model.id)
            else:
                row = _resolve(session, parsed)
                if row.archived:
                    return
                rows = [row]
                aliases = _aliases(session, AliasEventRow.version_id == row.id)
            if aliases:
                names = ", ".join(f"{a.alias} (version {a.number})" for a in aliases)
                raise RegistryError(f"{ref} is still aliased: {names}; move or remove the aliases first")
            if whole_model:
                model.archived = True
            for row in rows:
                row.archived = True
            subject = parsed.name if whole_model else _ref(rows[0])
            _record(session, _now(), actor, "archive", subject, {"versions": [r.number for r in rows]})

    def tag(self, ref: str, tag: str, *, actor: str) -> None:
        """Label the version ``ref`` names with ``tag`` (nothing happens if it has it already)."""
        tag_name(tag)
        parsed = parse_ref(ref)
        with self._db.writing() as session:
            row = _resolve(session, parsed)
            if any(t.tag == tag for t in row.tags):
                return
            row.tags.append(TagRow(tag=tag))
            _record(session, _now(), actor, "tag", _ref(row), {"tag": tag})

    def untag(self, ref: str, tag: str, *, actor: str) -> None:
        """Take ``tag`` off the version ``ref`` names."""
        parsed = parse_ref(ref)
        with self._db.writing() as session:
            row = _resolve(session, parsed)
            found = next((t for t in row.tags if t.tag == tag), None)
            if found is None:
                raise RegistryError(f"{_ref(row)} has no tag {tag!r}")
            session.delete(found)
            _record(session, _now(), actor, "untag", _ref(row), {"tag": tag})

    def approve(self, ref: str, *, role: str, actor: str, comment: str = "") -> Approval:
        """Record that ``actor``, acting as ``role``, approves the version ``ref`` names.

        Refused (separation of duties) when ``actor`` submitted the version.
        """
        return self._decide(ref, "approve", role=role, actor=actor, comment=comment)

    def reject(self, ref: str, *, role: str, actor: str, comment: str = "") -> Approval:
        """Record that ``actor``, acting as ``role``, rejects the version ``ref`` names.

        The rejection stands against promotion until someone approves again in the same role. Refused
        (separation of duties) when ``actor`` submitted the version.
        """
        return self._decide(ref, "reject", role=role, actor=actor, comment=comment)

    def _decide(self, ref: str, decision: str, *, role: str, actor: str, comment: str) -> Approval:
        role_name(role)
        parsed = parse_ref(ref)
        with self._db.writing() as session:
            row = _resolve(session, parsed)
            _require_live(row, "an approval" if decision == "approve" else "a rejection")
            if row.submitted_by and actor == row.submitted_by:
                # The one who submits a model cannot also be the one who signs it off (or turns it
                # down): every decision on a version is a second pair of eyes.
                raise RegistryError(
                    f"separation of duties: {actor} submitted {_ref(row)} and cannot {decision} it; "
                    "another reviewer must"
                )
            now = _now()
            row.approvals.append(
                ApprovalRow(role=role, actor=actor, at=now, comment=comment, decision=decision)
            )
            _record(session, now, actor, decision, _ref(row), {"role": role, "comment": comment})
        return Approval(role=role, actor=actor, at=now, comment=comment, decision=decision)

    def record_evaluation(
        self, ref: str, *, task: str, dataset_digest: str, record: Mapping[str, Any], actor: str
    ) -> EvaluationRecord:
        """Keep an evaluation of the version ``ref`` names, and say so in the audit log."""
        parsed = parse_ref(ref)
        with self._db.writing() as session:
            row = _resolve(session, parsed)
            now = _now()
            session.add(
                EvaluationRow(
                    version_id=row.id,
                    task=task,
                    dataset_digest=dataset_digest,
                    record=dict(record),
                    actor=actor,
                    at=now,
                )
            )
            _record(session, now, actor, "evaluate", _ref(row), {"task": task, "dataset": dataset_digest})
            return EvaluationRecord(_ref(row), task, dataset_digest, record, actor, now)

    def evaluations(self, ref: str) -> list[EvaluationRecord]:
        """The evaluations of the version ``ref`` names, oldest first."""
        parsed = parse_ref(ref)
        with self._db.reading() as session:
            row = _resolve(session, parsed)
            rows = session.scalars(
                select(EvaluationRow).where(EvaluationRow.version_id == row.id).order_by(EvaluationRow.id)
            )
            return [
                EvaluationRecord(_ref(row), e.task, e.dataset_digest, e.record, e.actor, e.at) for e in rows
            ]

    # Dependencies and advisories

    def components(self, ref: str) -> tuple[Component, ...]:
        """The components the dependencies check found in the version ``ref`` names, at its admission."""
        parsed = parse_ref(ref)
        with self._db.reading() as session:
            return _dependencies.components(session, _resolve(session, parsed).id)

    def component_uses(self, *, advisories: Collection[str] | None = None) -> list[ComponentUse]:
        """Audited components (exact versions) some stored advisory names, with the versions that have them.

        With ``advisories`` (ids), only the components those advisories name.
        """
        with self._db.reading() as session:
            return _dependencies.component_uses(session, advisories=advisories)

    def store_advisories(
        self, advisories: Iterable[StoredAdvisory], *, origin: str, actor: str
    ) -> AdvisorySync:
        """Add new advisories and replace older records of known ones; audited as one sync from ``origin``."""
        with self._db.writing() as session:
            return _dependencies.store_advisories(session, advisories, now=_now(), actor=actor, origin=origin)

    def advisory_records(self, names: Collection[str] | None = None) -> dict[str, list[str]]:
        """Package name -> compact records of the advisories in force for it (every package for None)."""
        with self._db.reading() as session:
            return _dependencies.advisory_records(session, names)

    def advisory_count(self) -> int:
        """How many advisories the database holds."""
        with self._db.reading() as session:
            return _dependencies.advisory_count(session)

    def record_vulnerabilities(
        self, found: Iterable[tuple[str, Vulnerability]], *, scope: Collection[str] | None, actor: str
    ) -> VulnerabilityChanges:
        """Record an audit's ``(ref, vulnerability)`` results over the advisories in ``scope`` (None: all).

        New ones are kept and audited; ones on record in scope and no longer found are resolved.
        """
        with self._db.writing() as session:
            return _dependencies.reconcile(session, found, scope=scope, now=_now(), actor=actor)

    def unnotified(self) -> list[AffectedVersion]:
        """Open vulnerabilities found by audits (or the gate) that nobody was told about yet."""
        with self._db.reading() as session:
            return _dependencies.unnotified(session)

    def mark_notified(self, told: Sequence[AffectedVersion]) -> None:
        """Record that the vulnerabilities ``told`` (from :meth:`unnotified`) reached someone."""
        if told:
            with self._db.writing() as session:
                _dependencies.mark_notified(session, told, now=_now())

    def vulnerabilities(self, ref: str, *, resolved: bool = False) -> list[AffectedVersion]:
        """The vulnerabilities on record for the version ``ref`` names (with ``resolved``, past ones too)."""
        parsed = parse_ref(ref)
        with self._db.reading() as session:
            row = _resolve(session, parsed)
            return _dependencies.vulnerabilities(session, row.id, _ref(row), resolved=resolved)

    # Upstream

    def upstream_record(self, name: str) -> UpstreamRecord | None:
        """What the watch last saw upstream of model ``name``; None before its first look."""
        with self._db.reading() as session:
            model = _model(session, model_name(name))
            row = session.get(UpstreamRow, model.id)
            return None if row is None else UpstreamRecord(name, row.source, row.state, row.checked)

    def record_upstream(
        self, name: str, *, source: str, state: Mapping[str, Any], changes: Sequence[str], actor: str
    ) -> None:
        """Keep what the watch saw upstream of ``name``; ``changes`` (one line each) are audited."""
        with self._db.writing() as session:
            model = _model(session, model_name(name))
            now = _now()
            row = session.get(UpstreamRow, model.id)
            if row is None:
                session.add(UpstreamRow(model_id=model.id, source=source, state=dict(state), checked=now))
            else:
                row.source, row.state, row.checked = source, dict(state), now
            if changes:
                payload = {"source": source, "revision": state.get("revision"), "changes": list(changes)}
                _record(session, now, actor, "watch.upstream", name, payload)

    # Alerts

    def alert_states(self) -> dict[str, Alert]:
        """Every alert on record, by fingerprint: the states the monitor's next evaluation starts from."""
        with self._db.reading() as session:
            return {alert.fingerprint: alert for alert in _alerts.stored(session)}

    def alerts(self, *, state: AlertState | None = None) -> list[Alert]:
        """The alerts on record (only those in ``state``, when given), by rule and fingerprint."""
        with self._db.reading() as session:
            return _alerts.stored(session, state)

    def record_alerts(self, alerts: Sequence[Alert], *, actor: str) -> tuple[Alert, ...]:
        """Store the new states ``alerts`` of an evaluation; return those that fired or resolved by it.

        Each of those is audited as ``alert.firing`` or ``alert.resolved``, in the same transaction.
        """
        if not alerts:
            return ()
        if not actor.strip():
            raise RegistryInputError("every change needs an actor: say who is making it")
        with self._db.writing() as session:
            return _alerts.record(session, alerts, now=_now(), actor=actor)

    def mark_alerts_notified(self, told: Sequence[Alert]) -> None:
        """Record that people were told of the alerts ``told`` in the state each has there."""
        if told:
            with self._db.writing() as session:
                _alerts.mark_notified(session, told)

    # Users and tokens

    def add_user(self, name: str, role: Role | str, *, domains: Iterable[str] = (), actor: str) -> User:
        """Add the user ``name`` in ``role``; ``domains`` are where a reviewer approves (none for others)."""
        _identity.user_name(name)
        chosen = _identity.role_of(role)
        scope = _identity.domains_for(chosen, domains)
        with self._db.writing() as session:
            if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise RegistryError(f"user {name} exists already; change it with set_role")
            now = _now()
            row = UserRow(name=name, role=chosen.value, domains=list(scope), disabled=False, created=now)
            session.add(row)
            _record(session, now, actor, "user.add", name, {"role": chosen.value, "domains": list(scope)})
            return _identity.to_user(row)

    def users(self) -> list[User]:
        """Every user, disabled ones included, by name."""
        with self._db.reading() as session:
            return [_identity.to_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.name))]

    def user(self, name: str) -> User:
        """The user ``name``; RegistryError if there is none."""
        with self._db.reading() as session:
            return _identity.to_user(_identity.user_row(session, name))

    def set_role(self, name: str, role: Role | str, *, domains: Iterable[str] = (), actor: str) -> User:
        """Give ``name`` the role ``role`` (and, for a reviewer, exactly ``domains``)."""
        chosen = _identity.role_of(role)
        scope = _identity.domains_for(chosen, domains)
        with self._db.writing() as session:
            row = _identity.user_row(session, name)
            previous = {"role": row.role, "domains": list(row.domains)}
            if previous == {"role": chosen.value, "domains": list(scope)}:
                return _identity.to_user(row)
            row.role, row.domains = chosen.value, list(scope)
            payload = {"role": chosen.value, "domains": list(scope), "previous": previous}
            _record(session, _now(), actor, "user.role", name, payload)
            return _identity.to_user(row)

    def disable_user(self, name: str, *, actor: str) -> User:
        """Disable ``name``: its tokens stop authenticating. It stays on record, as do its decisions."""
        with self._db.writing() as session:
            row = _identity.user_row(session, name)
            if not row.disabled:
                row.disabled = True
                _record(session, _now(), actor, "user.disable", name, {})
            return _identity.to_user(row)

    def issue_token(self, user: str, *, name: str = "", expires: datetime | None, actor: str) -> IssuedToken:
        """A new token for ``user``, valid until ``expires`` (None: until revoked).

        The secret is in the returned value only: the registry keeps its SHA-256.
        """
        _identity.token_label(name)
        now = _now()
        if expires is not None:
            if expires.tzinfo is None:
                raise RegistryInputError("a token's expiry must be an aware (UTC) time")
            if expires <= now:
                raise RegistryInputError(f"a token cannot expire in the past ({expires.isoformat()})")
        with self._db.writing() as session:
            owner = _identity.user_row(session, user)
            if owner.disabled:
                raise RegistryError(f"user {user} is disabled: it gets no token")
            ident, secret = _identity.new_secret()
            row = TokenRow(
                id=ident,
                user=owner,
                name=name,
                digest=_identity.digest(secret),
                created=now,
                expires=expires,
                revoked=None,
                last_used=None,
            )
            session.add(row)
            payload = {
                "user": user,
                "name": name,
                "expires": None if expires is None else expires.astimezone(UTC).isoformat(),
            }
            _record(session, now, actor, "token.issue", ident, payload)
            return IssuedToken(_identity.to_token(row), secret)

    def tokens(self, user: str | None = None) -> list[TokenInfo]:
        """Every token (of ``user`` only, when given), revoked and expired ones included, oldest first."""
        with self._db.reading() as session:
            query = select(TokenRow).order_by(TokenRow.created, TokenRow.id)
            if user is not None:
                query = query.where(TokenRow.user_id == _identity.user_row(session, user).id)
            return [_identity.to_token(row) for row in session.scalars(query)]

    def revoke_token(self, token_id: str, *, actor: str) -> TokenInfo:
        """Revoke the token ``token_id`` for good (nothing more happens if it is revoked already)."""
        with self._db.writing() as session:
            row = _identity.token_row(session, token_id)
            if row.revoked is None:
                now = _now()
                row.revoked = now
                _record(session, now, actor, "token.revoke", row.id, {"user": row.user.name})
            return _identity.to_token(row)

    def authenticate(self, secret: str, *, now: datetime | None = None) -> User | None:
        """The user a token's ``secret`` authenticates, at ``now`` (default: the current time).

        None for a malformed, unknown, wrong, expired or revoked secret, or a disabled user; the
        caller learns no more than that, and neither does an attacker timing it.
        """
        moment = _now() if now is None else now
        ident = _identity.token_id_of(secret)
        if ident is None:
            return None
        with self._db.reading() as session:
            row = session.get(TokenRow, ident)
            if row is None or not _identity.matches(secret, row.digest) or not _identity.usable(row, moment):
                return None
            user = _identity.to_user(row.user)
            stale = row.last_used is None or moment - row.last_used >= _identity.LAST_USED_RESOLUTION
        if stale:
            with self._db.writing() as session:
                # Not audited: a sign-in changes nothing the log vouches for, and would flood it.
                fresh = session.get(TokenRow, ident)
                if fresh is not None:
                    fresh.last_used = moment
        return user

    # Audit

    def audit(self) -> list[AuditEntry]:
        """Every audit entry, in sequence order."""
        with self._db.reading() as session:
            return _audit_entries(session)

    def verify_audit(self, *, anchor: str | None = None) -> AuditReport:
        """Check the audit chain: every edited, deleted or reordered entry is a problem.

        A cut tail leaves a valid chain; it is found when a registered version lost its ``admit``
        entry, and in any case by ``anchor``, a head hash recorded earlier.
        """
        with self._db.reading() as session:
            entries = _audit_entries(session)
            versions = [_ref(row) for row in session.scalars(select(VersionRow).order_by(VersionRow.id))]
        report = _audit.verify(entries, anchor=anchor)
        admitted = {entry.subject for entry in entries if entry.action == "admit"}
        unrecorded = [ref for ref in versions if ref not in admitted]
        if not unrecorded:
            return report
        shown = ", ".join(unrecorded[:5]) + (
            f" and {len(unrecorded) - 5} more" if len(unrecorded) > 5 else ""
        )
        detail = f"no admit entry for {shown}: entries were deleted"
        last = entries[-1].seq if entries else 0
        problem = AuditProblem(last + 1, Tamper.TRUNCATED, detail)
        return dataclasses.replace(report, problems=(*report.problems, problem))

    # Pages for the server's read path (modelsteward.server): lean queries, see _browse.py

    def models_page(
        self,
        *,
        q: str = "",
        verdict: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ModelSummary]:
        """Models by name, ``limit`` from ``offset``: those whose name contains ``q`` (any case), whose
        latest version's verdict is ``verdict`` and one of whose versions has ``tag``, with the total."""
        with self._db.statement() as connection:
            return _browse.models_page(connection, q=q, verdict=verdict, tag=tag, limit=limit, offset=offset)

    def model_detail(self, name: str, *, recent: int = 10) -> tuple[ModelSummary, Page[VersionSummary]]:
        """Model ``name`` at a glance and its ``recent`` newest versions, from one snapshot."""
        with self._db.statement() as connection:
            return _browse.model_detail(connection, name, recent=recent)

    def versions_page(self, name: str, *, limit: int = 50, offset: int = 0) -> Page[VersionSummary]:
        """The versions of model ``name``, newest first, without manifests or records, with the total."""
        with self._db.statement() as connection:
            return _browse.versions_page(connection, name, limit=limit, offset=offset)

    def version_summary(
        self, name: str, *, number: int | None = None, alias: str | None = None
    ) -> VersionSummary:
        """Version ``number`` of ``name`` (or the one ``alias`` points at) with tags, aliases and
        approvals, without its manifest or record."""
        with self._db.statement() as connection:
            return _browse.version_summary(connection, name, number=number, alias=alias)

    def vulnerabilities_page(
        self,
        *,
        model: str | None = None,
        advisory: str | None = None,
        status: str = "open",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[AffectedVersion]:
        """Vulnerabilities on record, by model name and newest version first, with the total: of
        ``model`` only, matching ``advisory`` (an id or alias, any case), whose ``status`` is ``open``
        (still holding), ``resolved`` or ``all``."""
        if status not in ("open", "resolved", "all"):
            raise RegistryInputError(f"bad status {status!r}: open, resolved or all")
        with self._db.reading() as session:
            return _browse.vulnerabilities_page(
                session,
                model=None if model is None else model_name(model),
                advisory=advisory,
                status=status,
                limit=limit,
                offset=offset,
            )

    def audit_page(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        subject: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[AuditEntry]:
        """Audit entries, newest first, filtered by ``actor``, ``action`` and ``subject`` (a model
        name matches its versions' entries too), with the total."""
        with self._db.reading() as session:
            return _browse.audit_page(
                session, actor=actor, action=action, subject=subject, limit=limit, offset=offset
            )


def _audit_entries(session: Session) -> list[AuditEntry]:
    return [_audit.to_entry(row) for row in session.scalars(select(AuditRow).order_by(AuditRow.seq))]


def _now() -> datetime:
    return datetime.now(UTC)


def _ref(row: VersionRow) -> str:
    return f"{row.model.name}@{row.number}"


def _record(
    session: Session, at: datetime, actor: str, action: str, subject: str, payload: Mapping[str, Any]
) -> None:
    if not actor.strip():
        raise RegistryInputError("every change needs an actor: say who is making it")
    _audit.append(session, at=at, actor=actor, action=action, subject=subject, payload=payload)


def _model(session: Session, name: str) -> ModelRow:
    model = session.scalar(select(ModelRow).where(ModelRow.name == name))
    if model is None:
        raise RegistryError(f"no model named {name}")
    return model


def _resolve(session: Session, ref: Ref) -> VersionRow:
    """The version ``ref`` names, or RegistryError saying why there is none."""
    model = _model(session, ref.name)
    if ref.alias is not None:
        return _current_alias(session, model, ref.alias)[1]
    versions = select(VersionRow).where(VersionRow.model_id == model.id)
    if ref.number is not None:
        row = session.scalar(versions.where(VersionRow.number == ref.number))
        if row is None:
            latest = session.scalar(
                select(func.max(VersionRow.number)).where(VersionRow.model_id == model.id)
            )
            raise RegistryError(f"{ref.name} has no version {ref.number} (the latest is {latest})")
        return row
    if model.archived:
        raise RegistryError(f"model {ref.name} is archived: name one of its versions ({ref.name}@N)")
    row = session.scalar(versions.where(~VersionRow.archived).order_by(VersionRow.number.desc()).limit(1))
    if row is None:
        raise RegistryError(f"every version of {ref.name} is archived: name one ({ref.name}@N)")
    return row


def _require_live(row: VersionRow, what: str) -> None:
    if row.archived:
        raise RegistryError(f"{_ref(row)} is archived: it cannot get {what}")


def _alias_event(session: Session, model_id: int, alias: str) -> AliasEventRow | None:
    """The latest move of ``alias``: where it points now (nowhere when its version is None)."""
    return session.scalars(
        select(AliasEventRow)
        .where(AliasEventRow.model_id == model_id, AliasEventRow.alias == alias)
        .order_by(AliasEventRow.id.desc())
        .limit(1)
    ).first()


def _current_alias(session: Session, model: ModelRow, alias: str) -> tuple[AliasEventRow, VersionRow]:
    """The latest move of ``alias`` and the version it points at; RegistryError if it points nowhere."""
    event = _alias_event(session, model.id, alias)
    if event is None or event.version is None:
        raise RegistryError(f"{model.name} has no alias {alias}")
    return event, event.version


def _move_alias(
    session: Session,
    model_id: int,
    alias: str,
    version: VersionRow | None,
    *,
    basis: AliasEventRow | None,
    at: datetime,
    actor: str,
) -> None:
    session.add(
        AliasEventRow(model_id=model_id, alias=alias, version=version, basis=basis, at=at, actor=actor)
    )


def _aliases(session: Session, *where: ColumnElement[bool]) -> Sequence[Row[int, str, int, int]]:
    """Every alias that points at a version now, as (model_id, alias, version_id, number), by alias."""
    latest = select(func.max(AliasEventRow.id)).group_by(AliasEventRow.model_id, AliasEventRow.alias)
    query = (
        select(AliasEventRow.model_id, AliasEventRow.alias, VersionRow.id, VersionRow.number)
        .join(VersionRow, AliasEventRow.version_id == VersionRow.id)
        .where(AliasEventRow.id.in_(latest), *where)
        .order_by(AliasEventRow.alias)
    )
    return session.execute(query).all()


def _info(session: Session, row: VersionRow) -> VersionInfo:
    """The version as a detached value."""
    parent = row.derived_from
    return VersionInfo(
        name=row.model.name,
        number=row.number,
        manifest=Manifest.from_json(row.manifest),
        manifest_digest=row.manifest_digest,
        source=row.source,
        revision=row.revision,
        verdict=Verdict(row.verdict),
        record=row.record,
        documents=row.documents,
        derived_from=None if parent is None else _ref(parent),
        created=row.created,
        archived=row.archived,
        aliases=tuple(a.alias for a in _aliases(session, AliasEventRow.version_id == row.id)),
        tags=tuple(t.tag for t in row.tags),
        approvals=tuple(
            Approval(role=a.role, actor=a.actor, at=a.at, comment=a.comment, decision=a.decision)
            for a in row.approvals
        ),
        upstream=row.upstream,
        submitted_by=row.submitted_by,
    )


def _require_approvals(row: VersionRow, alias: str, required: Collection[str]) -> None:
    """RegistryError unless ``row`` is approved in every ``required`` domain with no rejection standing.

    In each domain the latest decision counts: a rejection after an approval undoes it, an approval
    after a rejection answers it. The submitter's own decisions (recorded before separation of duties
    was enforced) never count.
    """
    latest: dict[str, ApprovalRow] = {}
    for decision in row.approvals:  # in the order they were made
        if decision.actor != row.submitted_by:
            latest[decision.role] = decision
    rejected = sorted(role for role, d in latest.items() if d.decision == "reject")
    missing = [d for d in dict.fromkeys(required) if d not in latest or latest[d].decision != "approve"]
    if not missing and not rejected:
        return
    problems = []
    if missing:
        problems.append(f"it needs approvals in {', '.join(missing)}")
    if rejected:
        shown = ", ".join(f"{role} (by {latest[role].actor})" for role in rejected)
        problems.append(f"it was rejected in {shown}")
    raise RegistryError(f"{_ref(row)} cannot become {alias}: {'; '.join(problems)}")


def _licenses(record: Mapping[str, Any]) -> tuple[str, ...]:
    """The licence ids the license check found, from an admission record."""
    for check in record.get("checks", ()):
        if check.get("check") == "license":
            return tuple(check.get("data", {}).get("ids", ()))
    return ()
