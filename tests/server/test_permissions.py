"""The whole authorisation matrix: every API route, every role, and no token at all.

The routes come from the app's OpenAPI document, so a new route without an entry here fails
:func:`test_every_route_has_an_entry`. Each case runs on a fresh copy of the workspace with a request
that is valid for the route, so an allowed role gets exactly the success status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.server.conftest import MODEL, ROLES, Workspace, make_client

# Who may do what (docs/server.md), written out here rather than read from the code under test.
EVERYONE = frozenset(ROLES)
SUBMIT = frozenset({"submitter", "admin"})
TAG = frozenset({"submitter", "owner", "admin"})
REVIEW = frozenset({"reviewer"})
PROMOTE = frozenset({"owner", "admin"})
ARCHIVE = PROMOTE
ADMIN = frozenset({"admin"})


@dataclass(frozen=True)
class Case:
    roles: frozenset[str]
    """The roles allowed; None of the others, and nobody without a token."""
    path: str
    """A concrete path for the request."""
    status: int = 200
    body: dict[str, Any] | None = field(default=None)


M = MODEL
MISSING = "/nowhere/at/all"
ROUTES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/me"): Case(EVERYONE, "/api/v1/me"),
    ("GET", "/api/v1/models"): Case(EVERYONE, "/api/v1/models"),
    ("GET", "/api/v1/models/{name}"): Case(EVERYONE, f"/api/v1/models/{M}"),
    ("GET", "/api/v1/models/{name}/versions"): Case(EVERYONE, f"/api/v1/models/{M}/versions"),
    ("GET", "/api/v1/models/{name}/versions/{number}"): Case(EVERYONE, f"/api/v1/models/{M}/versions/1"),
    ("GET", "/api/v1/models/{name}/versions/{number}/evaluations"): Case(
        EVERYONE, f"/api/v1/models/{M}/versions/1/evaluations"
    ),
    ("GET", "/api/v1/models/{name}/aliases/{alias}"): Case(
        EVERYONE, f"/api/v1/models/{M}/aliases/production"
    ),
    ("GET", "/api/v1/refs/{ref}"): Case(EVERYONE, f"/api/v1/refs/{M}@production"),
    ("GET", "/api/v1/compare"): Case(EVERYONE, f"/api/v1/compare?a={M}@1&b={M}@2"),
    ("GET", "/api/v1/audit"): Case(EVERYONE, "/api/v1/audit"),
    ("GET", "/api/v1/audit/verify"): Case(EVERYONE, "/api/v1/audit/verify"),
    ("GET", "/api/v1/alerts"): Case(EVERYONE, "/api/v1/alerts"),
    ("GET", "/api/v1/monitoring/{name}/kpis"): Case(EVERYONE, f"/api/v1/monitoring/{M}/kpis"),
    ("GET", "/api/v1/upstream"): Case(EVERYONE, "/api/v1/upstream"),
    ("GET", "/api/v1/upstream/{name}"): Case(EVERYONE, f"/api/v1/upstream/{M}"),
    ("GET", "/api/v1/vulnerabilities"): Case(EVERYONE, f"/api/v1/vulnerabilities?model={M}"),
    ("GET", "/api/v1/jobs"): Case(EVERYONE, "/api/v1/jobs"),
    ("GET", "/api/v1/jobs/{job_id}"): Case(EVERYONE, "/api/v1/jobs/job_0123456789abcdef", status=404),
    ("POST", "/api/v1/jobs/admit"): Case(SUBMIT, "/api/v1/jobs/admit", 202, {"source": MISSING, "name": "x"}),
    ("POST", "/api/v1/jobs/compare"): Case(
        SUBMIT,
        "/api/v1/jobs/compare",
        202,
        {"models": [f"{M}@1", f"{M}@2"], "data": MISSING, "task": "classification"},
    ),
    ("POST", "/api/v1/jobs/verify"): Case(EVERYONE, "/api/v1/jobs/verify", 202, {"ref": f"{M}@1"}),
    ("POST", "/api/v1/jobs/evaluate"): Case(
        SUBMIT,
        "/api/v1/jobs/evaluate",
        202,
        {"model": f"{M}@1", "data": MISSING, "task": "classification"},
    ),
    ("POST", "/api/v1/models/{name}/versions/{number}/tags"): Case(
        TAG, f"/api/v1/models/{M}/versions/2/tags", body={"tag": "nightly"}
    ),
    ("DELETE", "/api/v1/models/{name}/versions/{number}/tags/{tag}"): Case(
        TAG, f"/api/v1/models/{M}/versions/1/tags/exp/1", 204
    ),
    ("POST", "/api/v1/models/{name}/versions/{number}/approvals"): Case(
        REVIEW, f"/api/v1/models/{M}/versions/2/approvals", 201, {"domain": "security"}
    ),
    ("PUT", "/api/v1/models/{name}/aliases/{alias}"): Case(
        PROMOTE, f"/api/v1/models/{M}/aliases/staging", body={"version": 2}
    ),
    ("DELETE", "/api/v1/models/{name}/aliases/{alias}"): Case(
        PROMOTE, f"/api/v1/models/{M}/aliases/production", 204
    ),
    ("POST", "/api/v1/models/{name}/aliases/{alias}/rollback"): Case(
        PROMOTE, f"/api/v1/models/{M}/aliases/production/rollback", 409
    ),
    ("POST", "/api/v1/models/{name}/versions/{number}/archive"): Case(
        ARCHIVE, f"/api/v1/models/{M}/versions/2/archive"
    ),
    ("POST", "/api/v1/models/{name}/archive"): Case(ARCHIVE, f"/api/v1/models/{M}/archive", 409),
    ("GET", "/api/v1/users"): Case(ADMIN, "/api/v1/users"),
    ("POST", "/api/v1/users"): Case(ADMIN, "/api/v1/users", 201, {"name": "carol", "role": "viewer"}),
    ("GET", "/api/v1/users/{name}"): Case(ADMIN, "/api/v1/users/viewer"),
    ("PUT", "/api/v1/users/{name}/role"): Case(ADMIN, "/api/v1/users/viewer/role", body={"role": "owner"}),
    ("POST", "/api/v1/users/{name}/disable"): Case(ADMIN, "/api/v1/users/viewer/disable"),
    ("GET", "/api/v1/tokens"): Case(ADMIN, "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"): Case(ADMIN, "/api/v1/tokens", 201, {"user": "viewer", "name": "ci"}),
    ("DELETE", "/api/v1/tokens/{token_id}"): Case(ADMIN, "/api/v1/tokens/SPARE"),
}
"""Every authenticated route. Two succeed with a refusal the registry makes after authorisation (a
rollback with no earlier version, archiving an aliased model: 409), one with a job that is not there
(404): what matters is that the allowed roles get past authorisation and no other role does."""

PUBLIC = {("GET", "/api/v1/healthz")}


def test_every_route_has_an_entry(workspace: Workspace) -> None:
    # The OpenAPI document lists every route the app serves under /api/v1.
    with make_client(workspace) as client:
        paths = client.get("/api/v1/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    assert routes == set(ROUTES) | PUBLIC


@pytest.mark.parametrize("caller", [*ROLES, None], ids=[*ROLES, "anonymous"])
@pytest.mark.parametrize("route", sorted(ROUTES), ids=[f"{m} {p}" for m, p in sorted(ROUTES)])
def test_route_by_role(workspace: Workspace, route: tuple[str, str], caller: str | None) -> None:
    case = ROUTES[route]
    method, _ = route
    path = case.path.replace("SPARE", workspace.spare_token_id)
    headers = {} if caller is None else workspace.headers(caller)
    with make_client(workspace, job_workers=1) as client:
        response = client.request(method, path, json=case.body, headers=headers)
    if caller is None:
        expected = 401
    elif caller in case.roles:
        expected = case.status
    else:
        expected = 403
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert set(response.json()["error"]) == {"code", "message"}


def test_health_needs_no_token(workspace: Workspace) -> None:
    with make_client(workspace) as client:
        assert client.get("/api/v1/healthz").json()["status"] == "ok"
