"""The web UI without a browser: sign-in, CSRF, permissions and what each page says."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from modelsteward.gate import admit
from modelsteward.server import ServerConfig, create_app
from modelsteward.server._web._routes import PAGE_SIZE
from modelsteward.server._web._session import SESSION_COOKIE, SignInLimiter
from tests.registry._samples import register_sample
from tests.web.conftest import POLICY, Workspace, app_of, csrf_of
from tests.web.test_views import FAIRNESS

EXAMPLE = Path(__file__).parents[2] / "examples" / "models" / "noncommercial"


def _client(workspace: Workspace, user: str | None = None) -> TestClient:
    client = TestClient(app_of(workspace))
    if user is not None:
        page = client.get("/signin")
        response = client.post(
            "/signin",
            data={"token": workspace.tokens[user], "next": "/models", "csrf": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert response.status_code == 303
    return client


def _admitted(workspace: Workspace, actor: str = "sam") -> str:
    outcome = admit(
        str(EXAMPLE),
        name="acme/summariser",
        policy=workspace.policy,
        settings=workspace.settings,
        actor=actor,
    )
    return outcome.registered.ref


def test_pages_need_a_session_and_sign_in_takes_a_token(workspace: Workspace) -> None:
    client = TestClient(app_of(workspace))
    response = client.get("/models/acme/x/versions/1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fmodels%2Facme%2Fx%2Fversions%2F1"
    page = client.get("/signin")
    wrong = client.post("/signin", data={"token": "stw_nope", "csrf": csrf_of(page.text)})
    assert wrong.status_code == 401
    assert "not valid" in wrong.text
    right = client.post(
        "/signin",
        data={"token": workspace.tokens["val"], "csrf": csrf_of(page.text), "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/models"  # never off-site after sign-in
    cookie = right.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert client.get("/models").status_code == 200


def test_a_post_without_the_csrf_token_is_refused(workspace: Workspace) -> None:
    ref = _admitted(workspace)
    client = _client(workspace, "sec")
    refused = client.post("/approvals", data={"ref": ref, "domain": "security", "decision": "approve"})
    assert refused.status_code == 403
    forged = client.post(
        "/approvals", data={"ref": ref, "domain": "security", "decision": "approve", "csrf": "0" * 64}
    )
    assert forged.status_code == 403
    assert workspace.registry.get(ref).approvals == ()
    # The token of one session is no good in another.
    other = _client(workspace, "lee")
    token = csrf_of(other.get("/approvals").text)
    stolen = client.post(
        "/approvals", data={"ref": ref, "domain": "security", "decision": "approve", "csrf": token}
    )
    assert stolen.status_code == 403
    # Sign-in and sign-out are forms too.
    assert (
        TestClient(app_of(workspace)).post("/signin", data={"token": workspace.tokens["sec"]}).status_code
        == 403
    )
    assert client.post("/signout").status_code == 403


def test_a_reviewer_approves_in_their_domain_only_and_never_their_own_submission(
    workspace: Workspace,
) -> None:
    ref = _admitted(workspace, actor="sec")
    client = _client(workspace, "sec")
    inbox = client.get("/approvals")
    assert "You submitted this version" in inbox.text
    csrf = csrf_of(inbox.text)
    own = client.post(
        "/approvals", data={"ref": ref, "domain": "security", "decision": "approve", "csrf": csrf}
    )
    assert own.status_code == 200
    assert "Refused." in own.text
    assert "separation of duties" in own.text
    other_domain = client.post(
        "/approvals", data={"ref": ref, "domain": "legal", "decision": "approve", "csrf": csrf}
    )
    assert other_domain.status_code == 403
    assert workspace.registry.get(ref).approvals == ()


def test_only_owners_promote_and_only_with_the_policys_approvals(workspace: Workspace) -> None:
    ref = _admitted(workspace)
    name, number = ref.split("@")
    viewer = _client(workspace, "val")
    page = viewer.get(f"/models/{name}/versions/{number}")
    assert "Promote" not in page.text
    post = {"alias": "production", "version": number, "csrf": csrf_of(page.text)}
    assert viewer.post(f"/models/{name}/aliases", data=post).status_code == 403
    owner = _client(workspace, "olga")
    csrf = csrf_of(owner.get(f"/models/{name}/versions/{number}").text)
    early = owner.post(f"/models/{name}/aliases", data={**post, "csrf": csrf})
    assert "Refused." in early.text
    assert "security" in early.text
    assert "production" not in workspace.registry.get(ref).aliases
    workspace.registry.approve(ref, role="security", actor="sec")
    workspace.registry.approve(ref, role="legal", actor="lee")
    done = owner.post(f"/models/{name}/aliases", data={**post, "csrf": csrf})
    assert "production now points at acme/summariser@1" in done.text
    assert workspace.registry.get(ref).aliases == ("production",)


def test_the_version_page_shows_the_decision_checks_licence_and_downloads(workspace: Workspace) -> None:
    ref = _admitted(workspace)
    client = _client(workspace, "val")
    page = client.get("/models/acme/summariser/versions/1").text
    for expected in ("Decision: review", "license", "non-commercial", "Obligations", "Audit trail", "sam"):
        assert expected in page
    for kind in ("report", "model-card", "ml-bom", "sarif"):
        assert f"/models/acme/summariser/versions/1/documents/{kind}" in page
    sarif = client.get("/models/acme/summariser/versions/1/documents/sarif")
    assert sarif.status_code == 200
    assert sarif.json()["version"] == "2.1.0"
    assert "attachment" in sarif.headers["content-disposition"]
    report = client.get("/models/acme/summariser/versions/1/documents/report")
    assert report.headers["content-type"].startswith("text/html")
    assert "sandbox" in report.headers["content-security-policy"]
    assert client.get("/models/acme/summariser/versions/1/documents/nothing").status_code == 404
    assert ref == "acme/summariser@1"
    assert "/models/acme/summariser/versions/1" in client.get("/models?q=summ").text
    assert "No model matches" in client.get("/models?q=zzz").text
    assert "No model matches" in client.get("/models?verdict=approve").text


def test_every_page_sets_a_strict_content_security_policy(workspace: Workspace) -> None:
    client = _client(workspace, "val")
    for path in ("/models", "/approvals", "/compare", "/monitoring", "/upstream", "/admit"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "<script>" not in response.text  # no inline code
    assert client.get("/static/../_routes.py").status_code == 404
    assert client.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200


def test_sign_in_is_refused_for_a_while_after_ten_failures() -> None:
    limiter = SignInLimiter()
    for _ in range(10):
        assert not limiter.blocked("1.2.3.4", now=100.0)
        limiter.failed("1.2.3.4", now=100.0)
    assert limiter.blocked("1.2.3.4", now=100.0)
    assert not limiter.blocked("5.6.7.8", now=100.0)
    assert not limiter.blocked("1.2.3.4", now=161.0)


@pytest.mark.parametrize("user", ["val", "sec"])
def test_those_who_may_not_admit_are_told_so(workspace: Workspace, user: str) -> None:
    client = _client(workspace, user)
    page = client.get("/admit")
    assert "Only a submitter" in page.text
    post = client.post("/admit", data={"source": str(EXAMPLE), "name": "x/y", "csrf": csrf_of(page.text)})
    assert post.status_code == 403


def test_an_evaluated_version_shows_its_metrics_with_intervals_and_fairness_charts(
    workspace: Workspace,
) -> None:
    ref = _admitted(workspace)
    metrics = {"accuracy": {"value": 0.912, "low": 0.874, "high": 0.945, "level": 0.95, "resamples": 1000}}
    workspace.registry.record_evaluation(
        ref,
        task="classification",
        dataset_digest="sha256:" + "0" * 64,
        record={"task": "classification", "metrics": metrics, "fairness": FAIRNESS},
        actor="sam",
    )
    page = _client(workspace, "val").get("/models/acme/summariser/versions/1").text
    assert "0.912" in page
    assert "0.874 – 0.945" in page
    assert 'data-chart="bar"' in page
    assert "Groups by sex; parity ratio 0.60" in page
    assert "sex=f (n=40)" in page


def test_a_revoked_token_is_signed_out_at_the_next_click(workspace: Workspace) -> None:
    client = _client(workspace, "val")
    assert client.get("/models").status_code == 200
    (token,) = workspace.registry.tokens("val")
    workspace.registry.revoke_token(token.id, actor="admin")
    response = client.get("/models", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]


def test_a_search_typed_with_htmx_gets_only_the_results(workspace: Workspace) -> None:
    _admitted(workspace)
    client = _client(workspace, "val")
    partial = client.get("/models?q=summ", headers={"HX-Request": "true", "HX-Target": "results"})
    assert partial.text.lstrip().startswith('<div id="results"')
    assert "acme/summariser" in partial.text
    assert "<html" not in partial.text


def test_an_admission_that_fails_is_told_on_its_job_page(workspace: Workspace, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    with TestClient(create_app(ServerConfig(settings=workspace.settings, policy=policy))) as client:
        page = client.get("/signin")
        client.post("/signin", data={"token": workspace.tokens["sam"], "csrf": csrf_of(page.text)})
        form = client.get("/admit")
        missing = str(tmp_path / "no-such-model")
        submitted = client.post(
            "/admit",
            data={"source": missing, "name": "acme/missing", "csrf": csrf_of(form.text)},
            follow_redirects=False,
        )
        assert submitted.status_code == 303
        job = submitted.headers["location"]
        assert job.startswith("/jobs/job_")
        deadline = time.monotonic() + 30
        while 'http-equiv="refresh"' in (shown := client.get(job)).text:
            assert time.monotonic() < deadline, "the job did not finish within 30 s"
            time.sleep(0.1)
        assert "Failed." in shown.text
        assert "no-such-model" in shown.text
        assert client.get("/jobs/job_0000000000000000").status_code == 404
        recent = client.get("/admit").text
        assert "Your recent admissions" in recent
        assert f'href="{job}"' in recent


def test_the_models_list_is_paged_and_keeps_its_filters(workspace: Workspace) -> None:
    for n in range(PAGE_SIZE + 3):
        register_sample(workspace.registry, f"acme/m{n:03d}", f"weights {n}".encode())
    client = _client(workspace, "val")
    first = client.get("/models?q=acme").text
    assert "Page 1 of 2" in first
    assert "acme/m000" in first
    assert "acme/m052" not in first
    assert 'href="/models?q=acme&amp;verdict=&amp;alias=&amp;page=2"' in first
    second = client.get("/models?q=acme&page=2").text
    assert "acme/m052" in second
    assert "acme/m000" not in second
    assert "Page 2 of 2" in client.get("/models?q=acme&page=99").text


def test_a_standing_rejection_shows_on_the_version_and_blocks_promotion(workspace: Workspace) -> None:
    ref = _admitted(workspace)
    workspace.registry.approve(ref, role="security", actor="sec")
    lee = _client(workspace, "lee")
    csrf = csrf_of(lee.get("/approvals").text)
    rejected = lee.post(
        "/approvals",
        data={"ref": ref, "domain": "legal", "decision": "reject", "comment": "NC licence", "csrf": csrf},
    )
    assert "Rejected acme/summariser@1 for legal" in rejected.text
    owner = _client(workspace, "olga")
    page = owner.get("/models/acme/summariser/versions/1").text
    assert "rejected</span> by lee" in page
    assert "NC licence" in page
    refused = owner.post(
        "/models/acme/summariser/aliases", data={"alias": "production", "version": "1", "csrf": csrf_of(page)}
    )
    assert "Refused." in refused.text
    assert workspace.registry.get(ref).aliases == ()


def test_signing_out_forgets_the_session(workspace: Workspace) -> None:
    client = _client(workspace, "val")
    out = client.post("/signout", data={"csrf": csrf_of(client.get("/models").text)}, follow_redirects=False)
    assert out.status_code == 303
    assert f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]
    assert client.get("/models", follow_redirects=False).status_code == 303
