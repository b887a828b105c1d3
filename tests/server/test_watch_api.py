"""The watch's record over the API: each model's upstream, and the vulnerabilities audits found."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from modelsteward.core import Component, Origin, Severity, Vulnerability
from modelsteward.registry import Registry, StoredAdvisory
from modelsteward.server._schemas import UpstreamOut, UpstreamPageOut, VulnerabilityPageOut
from tests.registry._samples import register_sample
from tests.server.conftest import MODEL, Workspace

# What register_sample admits every version at.
ADMITTED = "0123456789abcdef0123456789abcdef01234567"
TORCH = Component("torch", Origin.REQUIREMENT, version="2.0.0", evidence="requirements.txt:1")
NUMPY = Component("numpy", Origin.ENVIRONMENT, version="1.21.0")
RCE = Vulnerability(
    TORCH, "GHSA-test-0001", ("CVE-2099-0001",), "remote code execution", Severity.HIGH, ("2.6.0",)
)
OVERFLOW = Vulnerability(NUMPY, "PYSEC-2099-7", (), "buffer overflow", None, ())


def _watched(workspace: Workspace) -> None:
    """What ``steward watch`` records: a newer revision upstream of MODEL; ``team/local`` never looked at,
    ``team/same`` looked at and unchanged."""
    with Registry.open(workspace.settings.database_url) as registry:
        register_sample(registry, "team/local", b"local weights")
        register_sample(registry, "team/same", b"same weights")
        registry.record_upstream(
            MODEL,
            source=f"hf://org/{MODEL}@main",
            state={
                "revision": "f" * 40,
                "licenses": ["MIT"],
                "gated": "manual",
                "new_version": "acme/cancer-2",
            },
            changes=["new revision ffffffffffff"],
            actor="watch",
        )
        registry.record_upstream(
            "team/same",
            source="hf://org/team/same@main",
            state={"revision": ADMITTED, "licenses": [], "gated": False, "new_version": None},
            changes=[],
            actor="watch",
        )


def test_upstream_shows_what_was_admitted_beside_what_the_watch_saw(
    workspace: Workspace, client: TestClient
) -> None:
    _watched(workspace)
    headers = workspace.headers("viewer")
    page = client.get("/api/v1/upstream", headers=headers).json()
    UpstreamPageOut.model_validate(page)
    assert (page["total"], page["limit"], page["offset"]) == (3, 50, 0)
    cancer, local, same = page["items"]
    assert cancer["name"] == MODEL
    assert cancer["latest"] == {"ref": f"{MODEL}@2", "revision": ADMITTED, "source": f"hf://org/{MODEL}@main"}
    seen = dict(cancer["upstream"])
    assert seen.pop("checked").startswith(str(datetime.now(UTC).year))
    assert seen == {
        "source": f"hf://org/{MODEL}@main",
        "revision": "f" * 40,
        "licenses": ["MIT"],
        "gated": "manual",
        "new_version": "acme/cancer-2",
    }
    assert cancer["newer_upstream"] is True
    assert local["name"] == "team/local" and local["upstream"] is None and local["newer_upstream"] is False
    assert local["latest"]["ref"] == "team/local@1"
    # Open access is null, however an older record spelled it.
    assert same["upstream"]["gated"] is None and same["upstream"]["revision"] == ADMITTED
    assert same["newer_upstream"] is False
    second = client.get("/api/v1/upstream?limit=1&offset=1", headers=headers).json()
    assert [m["name"] for m in second["items"]] == ["team/local"] and second["total"] == 3
    one = client.get(f"/api/v1/upstream/{MODEL}", headers=headers).json()
    UpstreamOut.model_validate(one)
    assert one == cancer


def _audited(workspace: Workspace) -> None:
    """Two audits: the first finds RCE in both versions of MODEL and OVERFLOW in ``team/x``; the second
    no longer finds RCE in MODEL@1 (its record resolved)."""
    with Registry.open(workspace.settings.database_url) as registry:
        register_sample(registry, "team/x", b"x weights")
        advisory = StoredAdvisory("GHSA-test-0001", datetime(2025, 1, 1, tzinfo=UTC), False, ("torch",), "{}")
        registry.store_advisories([advisory], origin="test", actor="setup")
        first = [(f"{MODEL}@1", RCE), (f"{MODEL}@2", RCE), ("team/x@1", OVERFLOW)]
        registry.record_vulnerabilities(first, scope=None, actor="audit")
        registry.record_vulnerabilities(first[1:], scope=None, actor="audit")


def test_vulnerabilities_open_by_default_filtered_and_paginated(
    workspace: Workspace, client: TestClient
) -> None:
    _audited(workspace)
    headers = workspace.headers("viewer")

    def listed(query: str = "") -> list[tuple[str, str, bool]]:
        page = client.get(f"/api/v1/vulnerabilities?{query}", headers=headers).json()
        VulnerabilityPageOut.model_validate(page)
        assert page["advisories"] == 1
        return [(v["version"], v["advisory"], v["resolved"] is not None) for v in page["items"]]

    # By model name, newest version first.
    assert listed() == [(f"{MODEL}@2", "GHSA-test-0001", False), ("team/x@1", "PYSEC-2099-7", False)]
    assert listed("status=resolved") == [(f"{MODEL}@1", "GHSA-test-0001", True)]
    assert [ref for ref, _, _ in listed("status=all")] == [f"{MODEL}@2", f"{MODEL}@1", "team/x@1"]
    assert listed("model=team/x") == [("team/x@1", "PYSEC-2099-7", False)]
    assert [ref for ref, _, _ in listed("status=all&advisory=cve-2099-0001")] == [f"{MODEL}@2", f"{MODEL}@1"]
    assert listed("advisory=GHSA-none") == []
    page = client.get("/api/v1/vulnerabilities?status=all&limit=1&offset=1", headers=headers).json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)
    resolved = page["items"][0]
    assert resolved["version"] == f"{MODEL}@1" and resolved["resolved"] >= resolved["found"]
    rce = client.get(f"/api/v1/vulnerabilities?model={MODEL}", headers=headers).json()["items"][0]
    assert rce["component"] == {
        "name": "torch",
        "origin": "requirement",
        "version": "2.0.0",
        "specifier": "",
        "evidence": "requirements.txt:1",
        "purl": "pkg:pypi/torch@2.0.0",
    }
    assert (rce["aliases"], rce["summary"], rce["severity"], rce["fixed"]) == (
        ["CVE-2099-0001"],
        "remote code execution",
        "high",
        ["2.6.0"],
    )
    unrated = client.get("/api/v1/vulnerabilities?model=team/x", headers=headers).json()["items"][0]
    assert unrated["severity"] is None and unrated["fixed"] == []


def test_no_advisory_database_is_not_a_clean_bill(client: TestClient, workspace: Workspace) -> None:
    page = client.get("/api/v1/vulnerabilities", headers=workspace.headers("viewer")).json()
    assert page == {"items": [], "total": 0, "limit": 50, "offset": 0, "advisories": 0}


def test_unknown_and_malformed_models_and_bad_queries(workspace: Workspace, client: TestClient) -> None:
    headers = workspace.headers("viewer")
    for path in ("/api/v1/upstream/acme/other", "/api/v1/vulnerabilities?model=acme/other"):
        missing = client.get(path, headers=headers)
        assert missing.status_code == 404, path
        assert missing.json() == {"error": {"code": "not_found", "message": "no model named acme/other"}}
    malformed = client.get("/api/v1/upstream/acme/bad name", headers=headers)
    assert malformed.status_code == 422
    assert malformed.json()["error"]["message"].startswith("bad model name 'acme/bad name': use letters")
    for query, field in (("status=fixed", "status"), ("limit=0", "limit"), ("offset=-1", "offset")):
        bad = client.get(f"/api/v1/vulnerabilities?{query}", headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
        assert bad.json()["error"]["message"].startswith(f"query.{field}: "), bad.text
