"""Tokens over HTTP: failed attempts throttled per client, expiry, revocation and disabling take effect."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from modelsteward.registry import Registry
from modelsteward.server._auth import Authenticator
from modelsteward.server._errors import ApiError
from tests.server.conftest import Workspace, make_client

WRONG = "stw_0123456789ab_" + "A" * 43


def test_ten_failed_tokens_in_a_minute_throttle_the_client(workspace: Workspace) -> None:
    with make_client(workspace) as client:
        for _ in range(10):
            assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {WRONG}"}).status_code == 401
        refused = client.get("/api/v1/me", headers=workspace.headers("viewer"))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_the_throttle_counts_per_client_and_forgets_after_the_window(workspace: Workspace) -> None:
    now = [0.0]
    with Registry.open(workspace.settings.database_url) as registry:
        authenticator = Authenticator(registry, clock=lambda: now[0])
        for _ in range(10):
            try:
                authenticator.user(WRONG, "10.0.0.1")
            except ApiError as error:
                assert error.status == 401
        try:
            authenticator.user(workspace.tokens["viewer"], "10.0.0.1")
        except ApiError as error:
            assert error.status == 429
        else:
            raise AssertionError("an eleventh attempt was let through")
        assert authenticator.user(workspace.tokens["viewer"], "10.0.0.2").name == "viewer"
        now[0] = 60.5
        assert authenticator.user(workspace.tokens["viewer"], "10.0.0.1").name == "viewer"


def test_nine_failures_do_not_throttle(workspace: Workspace) -> None:
    with make_client(workspace) as client:
        for _ in range(9):
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {WRONG}"})
        assert client.get("/api/v1/me", headers=workspace.headers("viewer")).status_code == 200


def test_a_missing_or_malformed_header_is_401(workspace: Workspace) -> None:
    with make_client(workspace) as client:
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
            response = client.get("/api/v1/models", headers=headers)
            assert response.status_code == 401, headers
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoking_a_token_takes_effect_within_the_cache_second(workspace: Workspace) -> None:
    with make_client(workspace) as client:
        assert client.get("/api/v1/me", headers=workspace.headers("spare")).status_code == 200
        revoked = client.delete(
            f"/api/v1/tokens/{workspace.spare_token_id}", headers=workspace.headers("admin")
        )
        assert revoked.status_code == 200 and revoked.json()["revoked"] is not None
        time.sleep(1.1)
        assert client.get("/api/v1/me", headers=workspace.headers("spare")).status_code == 401


def test_disabling_a_user_stops_their_tokens(workspace: Workspace) -> None:
    with make_client(workspace, auth_cache_seconds=0.0) as client:
        assert client.get("/api/v1/me", headers=workspace.headers("viewer")).status_code == 200
        client.post("/api/v1/users/viewer/disable", headers=workspace.headers("admin")).raise_for_status()
        assert client.get("/api/v1/me", headers=workspace.headers("viewer")).status_code == 401


def test_an_expired_token_stops_authenticating(workspace: Workspace) -> None:
    with Registry.open(workspace.settings.database_url) as registry:
        expires = datetime.now(UTC) + timedelta(seconds=1.5)
        secret = registry.issue_token("viewer", expires=expires, actor="setup").secret
    with make_client(workspace, auth_cache_seconds=0.0) as client:
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.1)
        assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_token_issued_over_the_api_works_and_its_secret_is_shown_once(workspace: Workspace) -> None:
    with make_client(workspace) as client:
        issued = client.post(
            "/api/v1/tokens",
            json={"user": "owner", "name": "ci", "expires_in_days": 1},
            headers=workspace.headers("admin"),
        ).json()
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued['secret']}"}).json()
        listed = client.get("/api/v1/tokens?user=owner", headers=workspace.headers("admin")).json()
    assert me["name"] == "owner" and me["role"] == "owner"
    assert issued["id"] in {t["id"] for t in listed}
    assert all("secret" not in t for t in listed)
