"""What the command line asks of a registry, local or behind a server."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Protocol

from modelsteward.registry import (
    Approval,
    AuditEntry,
    AuditReport,
    EvaluationRecord,
    IssuedToken,
    ModelSummary,
    Role,
    TokenInfo,
    User,
    VersionDiff,
    VersionInfo,
)


class RegistryAPI(Protocol):
    """The registry methods shared by :class:`~modelsteward.registry.Registry` and
    :class:`~modelsteward.client.RemoteRegistry` (see the former for what each does)."""

    def list_models(self) -> list[ModelSummary]: ...

    def get(self, ref: str) -> VersionInfo: ...

    def evaluations(self, ref: str) -> list[EvaluationRecord]: ...

    def diff(self, a: str, b: str) -> VersionDiff: ...

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        actor: str,
        required_approvals: Collection[str] = (),
    ) -> None: ...

    def remove_alias(self, name: str, alias: str, *, actor: str) -> None: ...

    def rollback(
        self, name: str, alias: str, *, actor: str, required_approvals: Collection[str] = ()
    ) -> VersionInfo: ...

    def archive(self, ref: str, *, actor: str) -> None: ...

    def tag(self, ref: str, tag: str, *, actor: str) -> None: ...

    def untag(self, ref: str, tag: str, *, actor: str) -> None: ...

    def approve(self, ref: str, *, role: str, actor: str, comment: str = "") -> Approval: ...

    def reject(self, ref: str, *, role: str, actor: str, comment: str = "") -> Approval: ...

    def audit(self) -> list[AuditEntry]: ...

    def verify_audit(self, *, anchor: str | None = None) -> AuditReport: ...

    def add_user(self, name: str, role: Role | str, *, domains: Iterable[str] = (), actor: str) -> User: ...

    def users(self) -> list[User]: ...

    def set_role(self, name: str, role: Role | str, *, domains: Iterable[str] = (), actor: str) -> User: ...

    def disable_user(self, name: str, *, actor: str) -> User: ...

    def issue_token(
        self, user: str, *, name: str = "", expires: datetime | None, actor: str
    ) -> IssuedToken: ...

    def tokens(self, user: str | None = None) -> list[TokenInfo]: ...

    def revoke_token(self, token_id: str, *, actor: str) -> TokenInfo: ...
