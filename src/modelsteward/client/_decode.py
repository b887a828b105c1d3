"""The API's JSON (``modelsteward.server._schemas``) read back into the registry's values.

A malformed answer raises RegistryError naming the field: a server of another version, or something
that is not a steward server at all, must not pass for one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from modelsteward.core import Manifest, Verdict
from modelsteward.registry import (
    Approval,
    AuditEntry,
    AuditProblem,
    AuditReport,
    EvaluationRecord,
    ModelSummary,
    RegistryError,
    Role,
    Tamper,
    TokenInfo,
    User,
    VersionDiff,
    VersionInfo,
)

T = TypeVar("T")
Json = Mapping[str, Any]


def _reading(kind: str) -> Callable[[Callable[[Json], T]], Callable[[Json], T]]:
    """Turn a decoder's KeyError, TypeError or ValueError into a RegistryError naming ``kind``."""

    def wrap(decode: Callable[[Json], T]) -> Callable[[Json], T]:
        def checked(data: Json) -> T:
            try:
                return decode(data)
            except (KeyError, TypeError, ValueError) as error:
                raise RegistryError(
                    f"the server's {kind} is malformed ({error!r}): is it a steward server?"
                ) from None

        checked.__doc__ = decode.__doc__
        return checked

    return wrap


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@_reading("model")
def model(data: Json) -> ModelSummary:
    """A model of ``GET /models``."""
    return ModelSummary(
        name=data["name"],
        versions=int(data["versions"]),
        latest=data["latest"],
        verdict=None if data["verdict"] is None else Verdict(data["verdict"]),
        aliases={str(alias): int(number) for alias, number in data["aliases"].items()},
        created=datetime.fromisoformat(data["created"]),
        archived=bool(data["archived"]),
    )


@_reading("approval")
def approval(data: Json) -> Approval:
    """An approval or rejection (the API calls its role a domain)."""
    return Approval(
        role=data["domain"],
        actor=data["actor"],
        at=datetime.fromisoformat(data["at"]),
        comment=data["comment"],
        decision=data["decision"],
    )


@_reading("version")
def version(data: Json) -> VersionInfo:
    """A version in full, as ``GET /refs/{ref}`` gives it."""
    return VersionInfo(
        name=data["name"],
        number=int(data["number"]),
        manifest=Manifest.from_json(data["manifest"]),
        manifest_digest=data["manifest_digest"],
        source=data["source"],
        revision=data["revision"],
        verdict=Verdict(data["verdict"]),
        record=data["record"],
        documents=dict(data["documents"]),
        derived_from=data["derived_from"],
        created=datetime.fromisoformat(data["created"]),
        archived=bool(data["archived"]),
        aliases=tuple(data["aliases"]),
        tags=tuple(data["tags"]),
        approvals=tuple(approval(item) for item in data["approvals"]),
        upstream=data["upstream"],
        submitted_by=data["submitted_by"],
    )


@_reading("evaluation")
def evaluation(data: Json) -> EvaluationRecord:
    """An evaluation recorded for a version."""
    return EvaluationRecord(
        ref=data["ref"],
        task=data["task"],
        dataset_digest=data["dataset_digest"],
        record=data["record"],
        actor=data["actor"],
        at=datetime.fromisoformat(data["at"]),
    )


@_reading("comparison")
def diff(data: Json) -> VersionDiff:
    """How one version differs from another."""
    first, second = data["verdicts"]
    licences_a, licences_b = data["licenses"]
    return VersionDiff(
        a=data["a"],
        b=data["b"],
        added=tuple(data["added"]),
        removed=tuple(data["removed"]),
        changed=tuple(data["changed"]),
        verdicts=(Verdict(first), Verdict(second)),
        licenses=(tuple(licences_a), tuple(licences_b)),
    )


@_reading("audit entry")
def audit_entry(data: Json) -> AuditEntry:
    """One entry of the audit log."""
    return AuditEntry(
        seq=int(data["seq"]),
        at=datetime.fromisoformat(data["at"]),
        actor=data["actor"],
        action=data["action"],
        subject=data["subject"],
        payload=data["payload"],
        prev_hash=data["prev_hash"],
        hash=data["hash"],
    )


@_reading("audit report")
def audit_report(data: Json) -> AuditReport:
    """What checking the audit chain found."""
    return AuditReport(
        entries=int(data["entries"]),
        head=None if data["head"] is None else audit_entry(data["head"]),
        problems=tuple(AuditProblem(int(p["seq"]), Tamper(p["kind"]), p["detail"]) for p in data["problems"]),
    )


@_reading("user")
def user(data: Json) -> User:
    """A user and their role."""
    return User(
        name=data["name"],
        role=Role(data["role"]),
        domains=tuple(data["domains"]),
        disabled=bool(data["disabled"]),
        created=datetime.fromisoformat(data["created"]),
    )


@_reading("token")
def token(data: Json) -> TokenInfo:
    """A token, without its secret."""
    return TokenInfo(
        id=data["id"],
        user=data["user"],
        name=data["name"],
        created=datetime.fromisoformat(data["created"]),
        expires=_time(data["expires"]),
        revoked=_time(data["revoked"]),
        last_used=_time(data["last_used"]),
    )
