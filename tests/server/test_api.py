"""The API's behaviour: pagination and filters, one version, aliases and approvals, errors."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from modelsteward.core import Verdict
from modelsteward.registry import Registry
from modelsteward.server._schemas import ModelDetailOut, ModelPageOut, VersionOut, VersionPageOut
from tests.registry._samples import register_sample
from tests.server.conftest import MODEL, Workspace, make_client


def _many(workspace: Workspace) -> None:
    with Registry.open(workspace.settings.database_url) as registry:
        for i in range(30):
            verdict = Verdict.REVIEW if i % 3 == 0 else Verdict.APPROVE
            register_sample(registry, f"team/m{i:02d}", f"w{i}".encode(), verdict=verdict)
        registry.tag("team/m07@1", "gpu", actor="setup")


def test_models_are_paginated_with_their_total(workspace: Workspace, client: TestClient) -> None:
    _many(workspace)
    headers = workspace.headers("viewer")
    first = client.get("/api/v1/models?limit=10", headers=headers).json()
    third = client.get("/api/v1/models?limit=10&offset=20", headers=headers).json()
    past = client.get("/api/v1/models?limit=10&offset=100", headers=headers).json()
    ModelPageOut.model_validate(first)
    assert (first["total"], len(first["items"]), first["limit"], first["offset"]) == (31, 10, 10, 0)
    assert first["items"][0]["name"] == MODEL
    assert [m["name"] for m in third["items"]] == [f"team/m{i:02d}" for i in range(19, 29)]
    assert past["items"] == [] and past["total"] == 31
    cancer = first["items"][0]
    assert cancer["aliases"] == {"production": 1} and cancer["latest"] == 2 and cancer["versions"] == 2


def test_models_filter_by_name_verdict_and_tag(workspace: Workspace, client: TestClient) -> None:
    _many(workspace)
    headers = workspace.headers("viewer")

    def names(query: str) -> list[str]:
        page = client.get(f"/api/v1/models?{query}", headers=headers).json()
        assert page["total"] == len(page["items"])
        return [m["name"] for m in page["items"]]

    assert names("q=CANC") == [MODEL]
    assert names("q=m1") == [f"team/m{i}" for i in range(10, 20)]
    assert names("q=%25") == [] and names("q=_") == []  # LIKE's wildcards are plain characters
    assert names("verdict=review") == [f"team/m{i:02d}" for i in range(0, 30, 3)]
    assert names("tag=gpu") == ["team/m07"]
    assert names("tag=exp/1") == [MODEL]
    assert names("verdict=review&q=m0") == ["team/m00", "team/m03", "team/m06", "team/m09"]
    bad = client.get("/api/v1/models?verdict=maybe&limit=0", headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"


def test_versions_newest_first_and_one_version(workspace: Workspace, client: TestClient) -> None:
    headers = workspace.headers("viewer")
    page = client.get(f"/api/v1/models/{MODEL}/versions?limit=1", headers=headers).json()
    VersionPageOut.model_validate(page)
    assert page["total"] == 2 and [v["number"] for v in page["items"]] == [2]
    one = client.get(f"/api/v1/models/{MODEL}/versions/1", headers=headers).json()
    VersionOut.model_validate(one)
    assert one["ref"] == f"{MODEL}@1" and one["aliases"] == ["production"] and one["tags"] == ["exp/1"]
    assert one["submitted_by"] == "submitter" and one["verdict"] == "approve"
    alias = client.get(f"/api/v1/models/{MODEL}/aliases/production", headers=headers).json()
    assert alias == one
    model = client.get(f"/api/v1/models/{MODEL}", headers=headers).json()
    ModelDetailOut.model_validate(model)
    assert [v["number"] for v in model["recent_versions"]] == [2, 1]


def test_missing_things_are_404_in_the_one_error_shape(workspace: Workspace, client: TestClient) -> None:
    headers = workspace.headers("viewer")
    for path in (
        "/api/v1/models/acme/other",
        f"/api/v1/models/{MODEL}/versions/9",
        f"/api/v1/models/{MODEL}/aliases/staging",
        "/api/v1/models/nobody/versions",
        "/api/v1/nothing-here",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found", path
    bad = client.get(f"/api/v1/models/{MODEL}/versions/one", headers=headers)
    assert bad.status_code == 422 and "number" in bad.json()["error"]["message"]


def test_a_reviewer_decides_only_in_their_domains_and_never_on_their_own_submission(
    workspace: Workspace, client: TestClient
) -> None:
    reviewer = workspace.headers("reviewer")
    url = f"/api/v1/models/{MODEL}/versions/2/approvals"
    ethics = client.post(url, json={"domain": "ethics"}, headers=reviewer)
    assert ethics.status_code == 403 and "security, legal" in ethics.json()["error"]["message"]
    # A version registered by the reviewer (from the command line, say) is theirs: they may not approve it.
    with Registry.open(workspace.settings.database_url) as registry:
        register_sample(registry, MODEL, b"weights three", actor="reviewer")
    own = client.post(
        f"/api/v1/models/{MODEL}/versions/3/approvals", json={"domain": "security"}, headers=reviewer
    )
    assert own.status_code == 403 and own.json()["error"]["code"] == "separation_of_duties"
    rejected = client.post(
        url, json={"domain": "legal", "decision": "reject", "comment": "no"}, headers=reviewer
    )
    assert rejected.status_code == 201 and rejected.json()["decision"] == "reject"
    version = client.get(f"/api/v1/models/{MODEL}/versions/2", headers=reviewer).json()
    assert [(a["domain"], a["decision"], a["actor"]) for a in version["approvals"]] == [
        ("legal", "reject", "reviewer")
    ]


def test_promotion_needs_the_approvals_the_policy_names(workspace: Workspace, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nname: p\npromotion:\n  production:\n    approvals: [security, legal]\n")
    with make_client(workspace, policy=policy) as client:
        owner, reviewer = workspace.headers("owner"), workspace.headers("reviewer")
        url = f"/api/v1/models/{MODEL}/aliases/production"
        refused = client.put(url, json={"version": 2}, headers=owner)
        assert refused.status_code == 409 and "security" in refused.json()["error"]["message"]

        def approve(number: int) -> None:
            for domain in ("security", "legal"):
                approvals = f"/api/v1/models/{MODEL}/versions/{number}/approvals"
                assert client.post(approvals, json={"domain": domain}, headers=reviewer).status_code == 201

        approve(2)
        moved = client.put(url, json={"version": 2}, headers=owner)
        assert moved.status_code == 200 and moved.json()["aliases"] == ["production"]
        # Version 1 became production before the policy asked for approvals: no way back without them.
        refused = client.post(f"{url}/rollback", headers=owner)
        assert (
            refused.status_code == 409 and "1 cannot become production" in refused.json()["error"]["message"]
        )
        approve(1)
        back = client.post(f"{url}/rollback", headers=owner)
        assert back.status_code == 200 and back.json()["number"] == 1
        staging = client.put(f"/api/v1/models/{MODEL}/aliases/staging", json={"version": 2}, headers=owner)
        assert staging.status_code == 200  # no rule for staging


def test_mutations_are_audited_with_the_callers_name(workspace: Workspace, client: TestClient) -> None:
    client.post(
        f"/api/v1/models/{MODEL}/versions/2/tags",
        json={"tag": "nightly"},
        headers=workspace.headers("submitter"),
    ).raise_for_status()
    page = client.get(f"/api/v1/audit?subject={MODEL}&limit=1", headers=workspace.headers("viewer")).json()
    entry = page["items"][0]
    assert (entry["action"], entry["actor"], entry["subject"]) == ("tag", "submitter", f"{MODEL}@2")
    assert client.get("/api/v1/audit/verify", headers=workspace.headers("viewer")).json()["ok"] is True


def test_users_are_managed_by_admins(workspace: Workspace, client: TestClient) -> None:
    admin = workspace.headers("admin")
    added = client.post(
        "/api/v1/users", json={"name": "dora", "role": "reviewer", "domains": ["ethics"]}, headers=admin
    )
    assert added.status_code == 201 and added.json()["domains"] == ["ethics"]
    again = client.post("/api/v1/users", json={"name": "dora", "role": "viewer"}, headers=admin)
    assert again.status_code == 409
    changed = client.put("/api/v1/users/dora/role", json={"role": "owner"}, headers=admin).json()
    assert changed["role"] == "owner" and changed["domains"] == []
    assert client.get("/api/v1/users/nobody", headers=admin).status_code == 404
