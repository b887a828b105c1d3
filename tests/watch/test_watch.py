"""The watch end to end, against a local git repository and a local hub speaking the Hub's API.

A model is admitted from upstream and aliased; upstream then moves. The watch admits the new
revision as a candidate through the gate with a diff, reports the licence change, leaves the alias
alone, and tells a local webhook and a local SMTP server. A real advisory synced after admission
reaches the old version and is told once.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from modelsteward.core import Verdict
from modelsteward.gate import Outcome, admit
from modelsteward.notify import load_config, notifiers_from
from modelsteward.policy import default_policy
from modelsteward.registry import Registry
from modelsteward.settings import Settings
from modelsteward.watch import WatchReport, sync_advisories, watch_once
from tests.gate.test_admit import safetensors
from tests.notify.servers import http_receiver, smtp_server
from tests.sources.hub_server import Hub, hub_server
from tests.sources.repos import GitRepo, git_env

OSV = Path(__file__).resolve().parents[1] / "checks" / "dependencies" / "osv"
TORCH_ADVISORY = "GHSA-53q9-r3pm-6pq6"


def card(licence: str) -> bytes:
    metadata = yaml.safe_dump({"license": licence})
    return f"---\n{metadata}---\n# tiny\n\n## Intended uses\n\nTests.\n".encode()


@dataclass(frozen=True)
class Upstream:
    repo: GitRepo
    source: str
    env: dict[str, str]
    hub: Hub | None = None
    """The local hub serving the repository, for ``hf://``."""


def upstream_repo(tmp_path: Path) -> GitRepo:
    """The upstream model: a card, a config, weights and requirements pinning torch 2.5.1, on ``main``."""
    repo = GitRepo.create(tmp_path / "upstream")
    repo.git("config", "uploadpack.allowFilter", "true")
    repo.commit(
        "first",
        {
            "README.md": card("apache-2.0"),
            "config.json": b'{"model_type": "tiny", "transformers_version": "4.30.0"}\n',
            "model.safetensors": safetensors(b"\x01" * 64),
            "requirements.txt": b"torch==2.5.1\nnumpy>=1.20\n",
        },
    )
    return repo


@pytest.fixture(params=["git", "hf"])
def upstream(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Upstream]:
    repo = upstream_repo(tmp_path)
    env = git_env()
    if request.param == "git":
        yield Upstream(repo, f"{repo.path.as_uri()}@main", env)
    else:
        with hub_server({"org/tiny": repo.path}) as hub:
            yield Upstream(repo, "hf://org/tiny@main", env | {"HF_ENDPOINT": hub.endpoint}, hub)


@pytest.fixture
def git_upstream(tmp_path: Path) -> Upstream:
    """The upstream as a git repository only, for what only git sources have."""
    repo = upstream_repo(tmp_path)
    return Upstream(repo, f"{repo.path.as_uri()}@main", git_env())


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url, jobs=2)


def first_admission(upstream: Upstream, settings: Settings) -> Outcome:
    return admit(
        upstream.source,
        name="tiny",
        policy=default_policy(),
        settings=settings,
        actor="alice",
        env=upstream.env,
    )


def watch(settings: Settings, upstream: Upstream, notify: Path | None = None) -> WatchReport:
    notifiers = () if notify is None else notifiers_from(load_config(notify), upstream.env)
    return watch_once(
        settings=settings, policy=default_policy(), notifiers=notifiers, actor="watch", env=upstream.env
    )


def test_a_new_revision_becomes_a_candidate_with_its_diff(
    upstream: Upstream, settings: Settings, tmp_path: Path
) -> None:
    first = admit(
        upstream.source,
        name="tiny",
        policy=default_policy(),
        settings=settings,
        actor="alice",
        env=upstream.env,
    )
    assert first.admission.decision.verdict is Verdict.APPROVE
    with Registry.open(settings.database_url) as registry:
        registry.set_alias("tiny", "production", 1, actor="alice")

    quiet = watch(settings, upstream)
    assert quiet.notifications == () and [m.revision for m in quiet.models] == [first.registered.revision]

    head = upstream.repo.commit(
        "new weights under a non-commercial licence",
        {
            "README.md": card("cc-by-nc-4.0"),
            "model.safetensors": safetensors(b"\x02" * 64),
            "tokenizer.json": b'{"version": "1.0"}\n',
        },
    )
    with http_receiver() as receiver, smtp_server() as (port, mailbox):
        notify = tmp_path / "notify.yaml"
        notify.write_text(
            f"notifiers:\n  - {{kind: webhook, url: '{receiver.url}'}}\n"
            f"  - {{kind: email, host: 127.0.0.1, port: {port}, security: none, "
            "sender: steward@example.invalid, to: [owners@example.invalid]}\n"
        )
        report = watch(settings, upstream, notify)

    [model] = report.models
    assert model.revision == head and model.candidate is not None and model.diff is not None
    candidate = model.candidate
    assert candidate.registered.ref == "tiny@2" and candidate.registered.revision == head
    assert candidate.admission.decision.verdict is Verdict.REVIEW
    assert any(r.rule == "license.review" for r in candidate.admission.decision.reasons)
    diff = model.diff
    assert (diff.files.a, diff.files.b) == ("tiny@1", "tiny@2")
    assert diff.files.added == ("tokenizer.json",)
    assert set(diff.files.changed) == {"README.md", "model.safetensors"}
    assert diff.files.removed == ()
    assert diff.files.licenses == (("apache-2.0",), ("cc-by-nc-4.0",))
    assert diff.license_changed and diff.license_class[0] != diff.license_class[1]

    kinds = [e.kind for e in report.notifications]
    assert kinds == ["watch.license-changed", "watch.new-revision"]
    # Both notifiers heard of both events, and no alias moved.
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert [b["kind"] for b in bodies] == kinds
    assert bodies[1]["subject"] == "tiny@2" and bodies[1]["facts"]["verdict"] == "review"
    assert len(mailbox.messages) == 2 and "cc-by-nc-4.0" in str(mailbox.messages[0]["Subject"])
    with Registry.open(settings.database_url) as registry:
        assert registry.get("tiny@production").number == 1
        assert registry.get("tiny@2").upstream == upstream.source
        actions = [e.action for e in registry.audit()]
    assert actions.count("watch.upstream") == 1 and actions.count("admit") == 2

    again = watch(settings, upstream)
    assert again.notifications == () and again.models[0].candidate is None


def test_a_new_advisory_reaches_the_admitted_version_and_is_told_once(
    upstream: Upstream, settings: Settings, tmp_path: Path
) -> None:
    admit(
        upstream.source,
        name="tiny",
        policy=default_policy(),
        settings=settings,
        actor="alice",
        env=upstream.env,
    )
    export = tmp_path / "export"
    export.mkdir()
    shutil.copy(OSV / f"{TORCH_ADVISORY}.json", export)
    with Registry.open(settings.database_url) as registry:
        synced = sync_advisories(registry, str(export), actor="alice", progress=lambda _m: None)
        # The requirements pin torch 2.5.1: the version admitted before the advisory is affected.
        assert [(a.ref, a.vulnerability.advisory) for a in synced.changes.found] == [
            ("tiny@1", TORCH_ADVISORY)
        ]
    with http_receiver() as receiver:
        notify = tmp_path / "notify.yaml"
        notify.write_text(f"notifiers:\n  - {{kind: slack, url: '{receiver.url}'}}\n")
        report = watch(settings, upstream, notify)
        later = watch(settings, upstream, notify)
    [event] = report.notifications
    assert event.kind == "watch.vulnerability" and event.subject == "tiny@1"
    assert "torch 2.5.1" in event.text and "fixed in 2.6.0" in event.text
    assert [d.ok for d in report.deliveries] == [True]
    payload = json.loads(receiver.requests[0].body)
    assert "tiny@1" in payload["text"]
    assert later.notifications == () and len(receiver.requests) == 1


def test_an_upstream_that_cannot_be_read_is_reported_and_the_rest_go_on(
    upstream: Upstream, settings: Settings, tmp_path: Path
) -> None:
    first_admission(upstream, settings)
    other = GitRepo.create(tmp_path / "other")
    other.commit("first", {"README.md": card("mit"), "config.json": b"{}"})
    admit(f"{other.path.as_uri()}@main", name="other", policy=default_policy(), settings=settings, actor="a")
    other.commit("second", {"config.json": b'{"layers": 2}'})
    upstream.repo.git("branch", "--move", "main", "renamed")
    report = watch(settings, upstream)
    by_subject = {n.subject: n for n in report.notifications}
    assert by_subject["tiny"].kind == "watch.error" and "main" in by_subject["tiny"].text
    assert by_subject["other@2"].kind == "watch.new-revision"
    tiny = next(m for m in report.models if m.name == "tiny")
    assert tiny.error is not None and tiny.candidate is None


def test_a_failed_delivery_is_tried_again_and_a_revert_or_an_archive_is_not_news(
    upstream: Upstream, settings: Settings, tmp_path: Path
) -> None:
    first = first_admission(upstream, settings)
    export = tmp_path / "export"
    export.mkdir()
    shutil.copy(OSV / f"{TORCH_ADVISORY}.json", export)
    with Registry.open(settings.database_url) as registry:
        sync_advisories(registry, str(export), actor="alice", progress=lambda _m: None)
    closed = tmp_path / "closed.yaml"
    closed.write_text("notifiers:\n  - {kind: webhook, url: 'http://127.0.0.1:9/hook'}\n")
    failed = watch(settings, upstream, closed)
    assert [d.ok for d in failed.deliveries] == [False]
    retried = watch(settings, upstream)  # no notifier now: printing the report is the telling
    assert [n.kind for n in retried.notifications] == ["watch.vulnerability"]
    assert watch(settings, upstream).notifications == ()

    upstream.repo.commit("try new weights", {"model.safetensors": safetensors(b"\x03" * 64)})
    assert [n.kind for n in watch(settings, upstream).notifications] == [
        "watch.new-revision",
        "watch.vulnerability",  # the candidate pins torch 2.5.1 too: an unattended admission is told
    ]
    with Registry.open(settings.database_url) as registry:
        registry.archive("tiny@2", actor="alice")
    assert watch(settings, upstream).notifications == ()  # an archived candidate is not admitted again
    upstream.repo.git("revert", "--no-edit", "HEAD")
    [revert] = watch(settings, upstream).notifications
    assert revert.kind == "watch.known-revision" and revert.subject == first.registered.ref
    assert watch(settings, upstream).notifications == ()


def test_the_first_look_reports_no_licence_change_for_a_spelling(
    upstream: Upstream, settings: Settings
) -> None:
    upstream.repo.commit("spelt differently", {"README.md": card("Apache 2.0")})
    first_admission(upstream, settings)
    assert watch(settings, upstream).notifications == ()
    upstream.repo.commit("spelt again", {"README.md": card("apache-2.0")})
    report = watch(settings, upstream)
    assert [n.kind for n in report.notifications] == ["watch.new-revision"]


def test_a_commit_given_by_a_short_id_is_followed_as_pinned(upstream: Upstream, settings: Settings) -> None:
    head = upstream.repo.git("rev-parse", "HEAD")
    base = upstream.source.rpartition("@")[0]
    admit(
        f"{base}@{head[:9]}",
        name="tiny",
        policy=default_policy(),
        settings=settings,
        actor="a",
        env=upstream.env,
    )
    upstream.repo.commit("moves main, not the commit", {"config.json": b"{}"})
    report = watch(settings, upstream)
    assert report.notifications == () and report.models[0].source == f"{base}@{head}"


def test_gating_and_a_new_version_pointer_are_reported_once(upstream: Upstream, settings: Settings) -> None:
    first_admission(upstream, settings)
    assert watch(settings, upstream).notifications == ()
    pointer = card("apache-2.0").replace(b"---\n#", b"new_version: org/tiny-v2\n---\n#", 1)
    upstream.repo.commit("point to the successor", {"README.md": pointer})
    if upstream.hub is not None:
        upstream.hub.gated["org/tiny"] = "manual"
    report = watch(settings, upstream)
    by_kind = {n.kind: n for n in report.notifications}
    expected = {"watch.new-version-pointer", "watch.new-revision"}
    if upstream.hub is not None:  # git has no gating
        expected.add("watch.gating-changed")
        assert by_kind["watch.gating-changed"].facts == {"before": "not gated", "after": "manual"}
    assert set(by_kind) == expected and len(report.notifications) == len(expected)
    assert by_kind["watch.new-version-pointer"].facts == {"new_version": "org/tiny-v2"}
    assert watch(settings, upstream).notifications == ()


def test_a_revision_that_could_not_be_admitted_is_tried_again(
    git_upstream: Upstream, settings: Settings, tmp_path: Path
) -> None:
    upstream = git_upstream
    first_admission(upstream, settings)
    head = upstream.repo.commit("new weights", {"model.safetensors": safetensors(b"\x04" * 64)})
    blob = upstream.repo.git("rev-parse", "HEAD:model.safetensors")
    stored = upstream.repo.path / ".git" / "objects" / blob[:2] / blob[2:]
    hidden = tmp_path / "hidden-object"
    # The weights cannot be fetched for a while (git reads the refs and the card without them).
    stored.rename(hidden)
    failed = watch(settings, upstream)
    assert [n.kind for n in failed.notifications] == ["watch.error"]
    assert failed.models[0].error is not None and failed.models[0].revision == head
    hidden.rename(stored)
    retried = watch(settings, upstream)
    assert [n.kind for n in retried.notifications] == ["watch.new-revision"]
    assert retried.models[0].candidate is not None


def test_a_repository_given_by_a_relative_path_is_watched_from_anywhere(
    git_upstream: Upstream, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream = git_upstream
    monkeypatch.chdir(upstream.repo.path.parent)
    admit(
        f"{upstream.repo.path.name}@main", name="tiny", policy=default_policy(), settings=settings, actor="a"
    )
    monkeypatch.chdir(tmp_path / "home")
    upstream.repo.commit("moves", {"config.json": b"{}"})
    [note] = watch(settings, upstream).notifications
    assert note.kind == "watch.new-revision"
