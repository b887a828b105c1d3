"""A team server's registry over HTTP: the registry's methods, as the server's REST API answers them."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from types import TracebackType

from modelsteward.client import _decode
from modelsteward.client._http import ApiSession, segment
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


class RemoteRegistry:
    """The registry of the server ``api`` connects to, acting as the user its token authenticates.

    Who acts is the token's user: the ``actor`` arguments, which a local registry records, are not
    sent (the server records its authenticated user). ``required_approvals`` is not sent either: the
    server's own policy decides what a promotion needs. Refusals are raised as for a local registry
    (see :class:`ApiSession`).
    """

    def __init__(self, api: ApiSession) -> None:
        self.api = api
        """The connection, which closing the registry closes."""

    def __enter__(self) -> RemoteRegistry:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection to the server."""
        self.api.close()

    # Models and versions

    def list_models(self) -> list[ModelSummary]:
        return [_decode.model(item) for item in self.api.pages("/models")]

    def get(self, ref: str) -> VersionInfo:
        return _decode.version(self.api.call("GET", f"/refs/{segment(ref)}"))

    def evaluations(self, ref: str) -> list[EvaluationRecord]:
        found = self.api.call("GET", f"{self._version_path(ref)}/evaluations")
        return [_decode.evaluation(item) for item in found]

    def diff(self, a: str, b: str) -> VersionDiff:
        return _decode.diff(self.api.call("GET", "/compare", params={"a": a, "b": b}))

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
        self.api.call("PUT", f"/models/{segment(name)}/aliases/{segment(alias)}", json={"version": version})

    def remove_alias(self, name: str, alias: str, *, actor: str) -> None:
        self.api.call("DELETE", f"/models/{segment(name)}/aliases/{segment(alias)}")

    def rollback(
        self, name: str, alias: str, *, actor: str, required_approvals: Collection[str] = ()
    ) -> VersionInfo:
        moved = self.api.call("POST", f"/models/{segment(name)}/aliases/{segment(alias)}/rollback")
        return self.get(moved["ref"])

    # Versions: archive, tags, approvals

    def archive(self, ref: str, *, actor: str) -> None:
        # A bare NAME archives the model, as a local registry does; NAME@... one version.
        target = f"/models/{segment(ref)}" if "@" not in ref else self._version_path(ref)
        self.api.call("POST", f"{target}/archive")

    def tag(self, ref: str, tag: str, *, actor: str) -> None:
        self.api.call("POST", f"{self._version_path(ref)}/tags", json={"tag": tag})

    def untag(self, ref: str, tag: str, *, actor: str) -> None:
        self.api.call("DELETE", f"{self._version_path(ref)}/tags/{segment(tag)}")

    def approve(self, ref: str, *, role: str, actor: str, comment: str = "") -> Approval:
        return self._decide(ref, "approve", role, comment)

    def reject(self, ref: str, *, role: str, actor: str, comment: str = "") -> Approval:
        return self._decide(ref, "reject", role, comment)

    def _decide(self, ref: str, decision: str, role: str, comment: str) -> Approval:
        body = {"domain": role, "decision": decision, "comment": comment}
        return _decode.approval(self.api.call("POST", f"{self._version_path(ref)}/approvals", json=body))

    # Audit

    def audit(self) -> list[AuditEntry]:
        # The API pages newest first; a local registry lists oldest first.
        return sorted((_decode.audit_entry(item) for item in self.api.pages("/audit")), key=lambda e: e.seq)

    def verify_audit(self, *, anchor: str | None = None) -> AuditReport:
        params = {} if anchor is None else {"anchor": anchor}
        return _decode.audit_report(self.api.call("GET", "/audit/verify", params=params))

    # Users and tokens

    def add_user(self, name: str, role: Role | str, *, domains: Iterable[str] = (), actor: str) -> User:
        body = {"name": name, "role": str(role), "domains": list(domains)}
        return _decode.user(self.api.call("POST", "/users", json=body))

    def users(self) -> list[User]:
        return [_decode.user(item) for item in self.api.call("GET", "/users")]

    def set_role(self, name: str, role: Role | str, *, domains: Iterable[str] = (), actor: str) -> User:
        body = {"role": str(role), "domains": list(domains)}
        return _decode.user(self.api.call("PUT", f"/users/{segment(name)}/role", json=body))

    def disable_user(self, name: str, *, actor: str) -> User:
        return _decode.user(self.api.call("POST", f"/users/{segment(name)}/disable"))

    def issue_token(self, user: str, *, name: str = "", expires: datetime | None, actor: str) -> IssuedToken:
        # The API takes whole days from now; 0 means never.
        days = (
            0 if expires is None else max(1, math.ceil((expires - datetime.now(UTC)).total_seconds() / 86400))
        )
        issued = self.api.call("POST", "/tokens", json={"user": user, "name": name, "expires_in_days": days})
        return IssuedToken(info=_decode.token(issued), secret=issued["secret"])

    def tokens(self, user: str | None = None) -> list[TokenInfo]:
        params = {} if user is None else {"user": user}
        return [_decode.token(item) for item in self.api.call("GET", "/tokens", params=params)]

    def revoke_token(self, token_id: str, *, actor: str) -> TokenInfo:
        return _decode.token(self.api.call("DELETE", f"/tokens/{segment(token_id)}"))

    # HTTP

    def _version_path(self, ref: str) -> str:
        """``/models/NAME/versions/N`` of the version ``ref`` names (the server resolves aliases)."""
        name, _, target = ref.partition("@")
        if not target.isdigit():
            resolved = self.api.call("GET", f"/refs/{segment(ref)}")
            name, target = resolved["name"], str(resolved["number"])
        return f"/models/{segment(name)}/versions/{target}"
