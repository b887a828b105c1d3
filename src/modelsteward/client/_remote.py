"""A team server's registry over HTTP: the registry's methods, as the server's REST API answers them."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from modelsteward.client import _decode
from modelsteward.registry import (
    Approval,
    AuditEntry,
    AuditReport,
    EvaluationRecord,
    IssuedToken,
    ModelSummary,
    RegistryError,
    RegistryInputError,
    Role,
    TokenInfo,
    User,
    VersionDiff,
    VersionInfo,
)

API = "/api/v1"
_PAGE = 500
_TIMEOUT = 30.0


class RemoteRegistry:
    """The registry of the server at ``url``, acting as the user ``token`` authenticates.

    Who acts is the token's user: the ``actor`` arguments, which a local registry records, are not
    sent (the server records its authenticated user). ``required_approvals`` is not sent either: the
    server's own policy decides what a promotion needs. Refusals are raised as for a local registry:
    RegistryInputError for bad input (422), RegistryError for the rest, with the server's message.
    """

    def __init__(self, url: str, token: str, *, transport: httpx.BaseTransport | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise RegistryInputError(f"server URL {url!r}: give it as http://HOST:PORT or https://HOST")
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url + API,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=_TIMEOUT,
            transport=transport,
        )

    def __enter__(self) -> RemoteRegistry:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection to the server."""
        self._http.close()

    # Models and versions

    def list_models(self) -> list[ModelSummary]:
        return [_decode.model(item) for item in self._pages("/models")]

    def get(self, ref: str) -> VersionInfo:
        return _decode.version(self._call("GET", f"/refs/{_path(ref)}"))

    def evaluations(self, ref: str) -> list[EvaluationRecord]:
        found = self._call("GET", f"{self._version_path(ref)}/evaluations")
        return [_decode.evaluation(item) for item in found]

    def diff(self, a: str, b: str) -> VersionDiff:
        return _decode.diff(self._call("GET", "/compare", params={"a": a, "b": b}))

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
        self._call("PUT", f"/models/{_path(name)}/aliases/{_path(alias)}", json={"version": version})

    def remove_alias(self, name: str, alias: str, *, actor: str) -> None:
        self._call("DELETE", f"/models/{_path(name)}/aliases/{_path(alias)}")

    def rollback(
        self, name: str, alias: str, *, actor: str, required_approvals: Collection[str] = ()
    ) -> VersionInfo:
        moved = self._call("POST", f"/models/{_path(name)}/aliases/{_path(alias)}/rollback")
        return self.get(moved["ref"])

    # Versions: archive, tags, approvals

    def archive(self, ref: str, *, actor: str) -> None:
        # A bare NAME archives the model, as a local registry does; NAME@... one version.
        target = f"/models/{_path(ref)}" if "@" not in ref else self._version_path(ref)
        self._call("POST", f"{target}/archive")

    def tag(self, ref: str, tag: str, *, actor: str) -> None:
        self._call("POST", f"{self._version_path(ref)}/tags", json={"tag": tag})

    def untag(self, ref: str, tag: str, *, actor: str) -> None:
        self._call("DELETE", f"{self._version_path(ref)}/tags/{_path(tag)}")

    def approve(self, ref: str, *, role: str, actor: str, comment: str = "") -> Approval:
        return self._decide(ref, "approve", role, comment)

    def reject(self, ref: str, *, role: str, actor: str, comment: str = "") -> Approval:
        return self._decide(ref, "reject", role, comment)

    def _decide(self, ref: str, decision: str, role: str, comment: str) -> Approval:
        body = {"domain": role, "decision": decision, "comment": comment}
        return _decode.approval(self._call("POST", f"{self._version_path(ref)}/approvals", json=body))

    # Audit

    def audit(self) -> list[AuditEntry]:
        # The API pages newest first; a local registry lists oldest first.
        return sorted((_decode.audit_entry(item) for item in self._pages("/audit")), key=lambda e: e.seq)

    def verify_audit(self, *, anchor: str | None = None) -> AuditReport:
        params = {} if anchor is None else {"anchor": anchor}
        return _decode.audit_report(self._call("GET", "/audit/verify", params=params))

    # Users and tokens

    def add_user(self, name: str, role: Role | str, *, domains: Iterable[str] = (), actor: str) -> User:
        body = {"name": name, "role": str(role), "domains": list(domains)}
        return _decode.user(self._call("POST", "/users", json=body))

    def users(self) -> list[User]:
        return [_decode.user(item) for item in self._call("GET", "/users")]

    def set_role(self, name: str, role: Role | str, *, domains: Iterable[str] = (), actor: str) -> User:
        body = {"role": str(role), "domains": list(domains)}
        return _decode.user(self._call("PUT", f"/users/{_path(name)}/role", json=body))

    def disable_user(self, name: str, *, actor: str) -> User:
        return _decode.user(self._call("POST", f"/users/{_path(name)}/disable"))

    def issue_token(self, user: str, *, name: str = "", expires: datetime | None, actor: str) -> IssuedToken:
        # The API takes whole days from now; 0 means never.
        days = (
            0 if expires is None else max(1, math.ceil((expires - datetime.now(UTC)).total_seconds() / 86400))
        )
        issued = self._call("POST", "/tokens", json={"user": user, "name": name, "expires_in_days": days})
        return IssuedToken(info=_decode.token(issued), secret=issued["secret"])

    def tokens(self, user: str | None = None) -> list[TokenInfo]:
        params = {} if user is None else {"user": user}
        return [_decode.token(item) for item in self._call("GET", "/tokens", params=params)]

    def revoke_token(self, token_id: str, *, actor: str) -> TokenInfo:
        return _decode.token(self._call("DELETE", f"/tokens/{_path(token_id)}"))

    # HTTP

    def _version_path(self, ref: str) -> str:
        """``/models/NAME/versions/N`` of the version ``ref`` names (the server resolves aliases)."""
        name, _, target = ref.partition("@")
        if not target.isdigit():
            resolved = self._call("GET", f"/refs/{_path(ref)}")
            name, target = resolved["name"], str(resolved["number"])
        return f"/models/{_path(name)}/versions/{target}"

    def _pages(self, path: str) -> Iterator[Mapping[str, Any]]:
        offset = 0
        while True:
            page = self._call("GET", path, params={"limit": _PAGE, "offset": offset})
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.HTTPError as error:
            raise RegistryError(f"cannot reach the server at {self.url}: {error}") from None
        if response.status_code == 204:
            return None
        if response.is_success:
            return response.json()
        raise _refusal(self.url, response)


def _path(text: str) -> str:
    """``text`` as one path segment or more: model names keep their ``/``, anything else is escaped."""
    return quote(text, safe="/@")


def _refusal(url: str, response: httpx.Response) -> RegistryError:
    """The error a refused request stands for, with the server's own message."""
    try:
        message = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = f"HTTP {response.status_code} from {url}"
    if response.status_code == 422:
        return RegistryInputError(message)
    if response.status_code == 401:
        return RegistryError(f"{message} (set STEWARD_TOKEN to an API token of {url})")
    return RegistryError(message)
