"""The web UI in a real browser (Debian's Chromium, headless, driven by Playwright) against a live server.

The whole adoption flow as the people in it do it: a submitter admits a model through the admit form
(a server job), a security and a legal reviewer approve it from their inboxes, the owner promotes it to
production (the policy requires both approvals), and a viewer reads its drift chart. Each page is saved
to docs/screenshots/ for the README.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from modelsteward.core import Component, Origin, Severity, Verdict, Vulnerability
from modelsteward.gate import admit
from modelsteward.monitoring import Event, EventStore
from modelsteward.registry import Alert, AlertState
from modelsteward.server import ServerConfig, create_app
from tests.registry._samples import register_sample
from tests.web.conftest import CHROMIUM, POLICY, Workspace
from tests.web.test_views import FAIRNESS

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "models"
SCREENSHOTS = ROOT / "docs" / "screenshots"

METRICS = {
    "accuracy": {"value": 0.912, "low": 0.874, "high": 0.945, "level": 0.95, "resamples": 1000},
    "f1": {"value": 0.897, "low": 0.851, "high": 0.936, "level": 0.95, "resamples": 1000},
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # The test command installs Chromium; without it these tests fail rather than skip unseen.
    assert CHROMIUM.exists(), f"no Chromium at {CHROMIUM}: run bash scripts/chromium.sh"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def server(workspace: Workspace, tmp_path: Path) -> Iterator[str]:
    """The team server (API, jobs and web UI) on a free port; yields its base URL."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    app = create_app(ServerConfig(settings=workspace.settings, policy=policy))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start within 20 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)


def _signed_in(browser: Browser, base: str, token: str, *, javascript: bool = True) -> Page:
    context = browser.new_context(
        base_url=base, viewport={"width": 1280, "height": 860}, java_script_enabled=javascript
    )
    page = context.new_page()
    page.goto("/models")
    expect(page).to_have_url(f"{base}/signin?next=%2Fmodels")
    _shot(page, "signin")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/models")
    return page


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _log_events(workspace: Workspace, model: str, version: int) -> None:
    """Five hours of predictions whose ``age`` input drifts upward in the last two."""
    rng = np.random.default_rng(7)
    now = datetime.now(UTC)
    start = now - timedelta(hours=5)
    events = []
    for n in range(1500):
        at = start + timedelta(seconds=12 * n)
        late = at > now - timedelta(hours=2)
        events.append(
            Event(
                request_id=f"r{n}",
                model=model,
                version=version,
                at=at,
                inputs={"age": float(rng.normal(55 if late else 40, 8)), "plan": str(rng.choice(["a", "b"]))},
                outputs={"label": str(n % 2)},
                latency_ms=float(20 + rng.gamma(2, 6) + (15 if late else 0)),
                error="timeout" if n % 97 == 0 else None,
            )
        )
    EventStore(workspace.settings.events).append(events)


def _watched(workspace: Workspace) -> None:
    """What ``steward watch`` and ``steward audit-deps`` would have recorded: a newer upstream revision
    and a vulnerability in a component of the latest version."""
    workspace.registry.record_upstream(
        "acme/summariser",
        source="hf://acme/summariser@main",
        state={"revision": "f" * 40, "licenses": ["cc-by-nc-4.0"], "gated": False, "new_version": None},
        changes=["new revision ffffffffffff"],
        actor="watch",
    )
    component = Component("torch", Origin.REQUIREMENT, version="2.0.0")
    vulnerability = Vulnerability(
        component, "GHSA-test-0001", ("CVE-2099-0001",), "remote code execution", Severity.HIGH, ("2.6.0",)
    )
    workspace.registry.record_vulnerabilities(
        [("acme/summariser@2", vulnerability)], scope=None, actor="audit"
    )


def _alert(workspace: Workspace, model: str, version: int) -> None:
    """A firing drift alert, as ``steward monitor check`` records one."""
    now = datetime.now(UTC)
    labels = {"alertname": "AgeDrift", "model": model, "version": str(version), "column": "input.age"}
    alert = Alert(
        fingerprint="0123456789abcdef",
        rule="AgeDrift",
        labels=labels,
        annotations={"summary": "input.age drifted from the evaluation data"},
        severity=Severity.HIGH,
        state=AlertState.FIRING,
        value=2.2,
        active_since=now - timedelta(hours=2),
        fired_at=now - timedelta(hours=1),
        resolved_at=None,
        observed_at=now,
        evaluated_at=now,
    )
    workspace.registry.record_alerts([alert], actor="monitor")


def test_submit_review_promote_and_monitor_in_a_browser(
    browser: Browser, server: str, workspace: Workspace
) -> None:
    # A submitter admits a model through the admit form; the job page follows it to the version.
    sam = _signed_in(browser, server, workspace.tokens["sam"])
    sam.get_by_role("link", name="Admit", exact=True).click()
    sam.get_by_label("Source").fill(str(EXAMPLES / "noncommercial"))
    sam.get_by_label("Name in the registry").fill("acme/summariser")
    _shot(sam, "admit")
    sam.get_by_role("button", name="Admit").click()
    expect(sam.get_by_role("status")).to_contain_text("Admitted as acme/summariser@1: review", timeout=60_000)
    expect(sam.get_by_role("heading", name="Decision: review")).to_be_visible()
    # A second version (a pickle that runs code), so there is something to compare.
    sam.goto("/admit")
    sam.get_by_label("Source").fill(str(EXAMPLES / "malicious-pickle"))
    sam.get_by_label("Name in the registry").fill("acme/summariser")
    sam.get_by_role("button", name="Admit").click()
    expect(sam.get_by_role("status")).to_contain_text("Admitted as acme/summariser@2: reject", timeout=60_000)
    _shot(sam, "version-rejected")

    # The security reviewer approves from the inbox (htmx swaps the inbox in place).
    sec = _signed_in(browser, server, workspace.tokens["sec"])
    sec.get_by_role("link", name="Approvals").click()
    expect(sec.get_by_role("heading", name="acme/summariser@1")).to_be_visible()
    _shot(sec, "approvals")
    sec.get_by_label("Comment").first.fill("Safetensors only; no code in the repository.")
    sec.get_by_role("button", name="Approve for security").click()
    expect(sec.get_by_role("status")).to_contain_text("Approved acme/summariser@1 for security")
    expect(sec.get_by_text("Nothing waits for you.")).to_be_visible()

    # The owner cannot promote yet: the legal approval is missing.
    olga = _signed_in(browser, server, workspace.tokens["olga"])
    olga.goto("/models/acme/summariser/versions/1")
    olga.get_by_role("button", name="Promote v1").click()
    expect(olga.get_by_role("alert")).to_contain_text("legal")

    lee = _signed_in(browser, server, workspace.tokens["lee"])
    lee.goto("/approvals")
    lee.get_by_role("button", name="Approve for legal").click()
    expect(lee.get_by_role("status")).to_contain_text("Approved acme/summariser@1 for legal")

    # An evaluation recorded since admission puts metrics and fairness charts on the page.
    workspace.registry.record_evaluation(
        "acme/summariser@1",
        task="classification",
        dataset_digest="sha256:" + "0" * 64,
        record={"task": "classification", "metrics": METRICS, "fairness": FAIRNESS},
        actor="sam",
    )
    olga.get_by_role("button", name="Promote v1").click()
    expect(olga.get_by_role("status")).to_contain_text("production now points at acme/summariser@1")
    expect(olga.get_by_role("figure", name="Groups by sex").locator("canvas")).to_be_visible()
    expect(olga.locator(".domains")).to_contain_text("approved by sec")
    expect(olga.locator(".domains")).to_contain_text("approved by lee")
    _shot(olga, "version")
    assert workspace.registry.get("acme/summariser@1").aliases == ("production",)

    # Anyone sees the models with their badges, and can compare the two versions.
    for name, verdict in (
        ("vision/yolo-detector", Verdict.APPROVE),
        ("nlp/minilm-embedder", Verdict.APPROVE),
        ("legal/contract-llm", Verdict.REVIEW),
        ("risk/credit-scorer", Verdict.APPROVE),
    ):
        register_sample(workspace.registry, name, name.encode(), verdict=verdict, actor="sam")
    workspace.registry.set_alias("nlp/minilm-embedder", "staging", 1, actor="olga")
    olga.goto("/models")
    expect(olga.get_by_role("row", name="acme/summariser")).to_contain_text("production → v1")
    _shot(olga, "models")
    olga.get_by_label("Search").fill("nothing-like-it")  # htmx swaps the results as one types
    expect(olga.get_by_text("No model matches.")).to_be_visible()
    expect(olga).to_have_url(f"{server}/models?q=nothing-like-it&verdict=&alias=")
    olga.goto("/compare?a=acme/summariser@1&b=acme/summariser@2")
    expect(olga.get_by_role("heading", name="acme/summariser@1 → acme/summariser@2")).to_be_visible()
    _shot(olga, "compare")
    _watched(workspace)
    olga.goto("/upstream")
    row = olga.get_by_role("row", name="acme/summariser")
    expect(row).to_contain_text("newer upstream")
    expect(row).to_contain_text("GHSA-test-0001")
    _shot(olga, "upstream")

    # A viewer reads the served version's drift chart.
    _log_events(workspace, "acme/summariser", 1)
    _alert(workspace, "acme/summariser", 1)
    val = _signed_in(browser, server, workspace.tokens["val"])
    val.goto("/monitoring?model=acme/summariser&version=1&hours=5&window=30&baseline=60")
    figure = val.get_by_role("figure", name="Drift of input.age")
    expect(figure.locator("canvas")).to_be_visible()
    expect(figure.get_by_role("table")).to_be_hidden()  # the data table folds away once drawn
    expect(val.get_by_role("row", name="input.age").first).to_contain_text("drifted")
    expect(val.get_by_role("row", name="AgeDrift")).to_contain_text("firing")
    _shot(val, "monitoring")
    # A viewer may not approve or promote.
    expect(val.get_by_role("link", name="Admit", exact=True)).to_have_count(0)


def test_a_reviewer_cannot_approve_their_own_submission(
    browser: Browser, server: str, workspace: Workspace
) -> None:
    admit(
        str(EXAMPLES / "noncommercial"),
        name="acme/own",
        policy=workspace.policy,
        settings=workspace.settings,
        actor="sec",
    )
    sec = _signed_in(browser, server, workspace.tokens["sec"])
    sec.goto("/approvals")
    expect(sec.get_by_text("You submitted this version")).to_be_visible()
    sec.get_by_role("button", name="Approve for security").click()
    expect(sec.get_by_role("alert")).to_contain_text("separation of duties")
    assert workspace.registry.get("acme/own@1").approvals == ()


def test_pages_read_without_javascript_and_by_keyboard(
    browser: Browser, server: str, workspace: Workspace
) -> None:
    admit(
        str(EXAMPLES / "noncommercial"),
        name="acme/nojs",
        policy=workspace.policy,
        settings=workspace.settings,
        actor="sam",
    )
    _log_events(workspace, "acme/nojs", 1)
    plain = _signed_in(browser, server, workspace.tokens["val"], javascript=False)
    plain.goto("/monitoring?model=acme/nojs&version=1&hours=5&window=30&baseline=60")
    table = plain.get_by_role("figure", name="Drift of input.age").get_by_role("table")
    expect(table).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(11)  # the heading and ten windows
    plain.goto("/models?q=nojs")  # the search box is a plain GET form
    expect(plain.get_by_role("link", name="acme/nojs")).to_be_visible()
    # The first Tab reaches the skip link, which moves focus to the content.
    keyboard = _signed_in(browser, server, workspace.tokens["val"])
    keyboard.keyboard.press("Tab")
    expect(keyboard.get_by_role("link", name="Skip to content")).to_be_focused()
    keyboard.keyboard.press("Enter")
    expect(keyboard).to_have_url(f"{server}/models#main")
    for landmark in ("banner", "main", "contentinfo", "navigation", "search"):
        expect(keyboard.get_by_role(landmark).first).to_be_attached()
