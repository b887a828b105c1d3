"""Watching an ``hf://`` source: the Hub's model info, refs and commits, and never a file download."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from modelsteward.sources import SourceError, open_source
from tests.sources.hub_server import hub_server
from tests.sources.repos import GitRepo

TOKEN = "hf_test_token"  # noqa: S105 - a test token the local hub expects
WEIGHTS = bytes(range(256)) * 64


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A model with a card, a config and weights the hub stores with LFS."""
    repo = GitRepo.create(tmp_path / "model")
    repo.commit(
        "first",
        {
            "README.md": b"---\nlicense: apache-2.0\n---\n# A model\n",
            "config.json": b"{}",
            "weights/model.safetensors": WEIGHTS,
        },
    )
    return repo


def test_nothing_is_downloaded_and_lfs_files_are_known_by_their_sha256(
    repo: GitRepo, env: dict[str, str]
) -> None:
    with hub_server({"org/model": repo.path}) as hub:
        upstream = open_source("hf://org/model@main", env=env | {"HF_ENDPOINT": hub.endpoint}).upstream()

    assert dict(upstream.files) == {
        "README.md": repo.git("rev-parse", "HEAD:README.md"),
        "config.json": repo.git("rev-parse", "HEAD:config.json"),
        "weights/model.safetensors": hashlib.sha256(WEIGHTS).hexdigest(),
    }
    assert upstream.licenses == ("apache-2.0",)
    assert [r.path.partition("?")[0] for r in hub.requests] == [
        "/api/models/org/model/refs",
        f"/api/models/org/model/revision/{upstream.revision}",
    ]


def test_gating_is_seen_when_it_is_switched(repo: GitRepo, env: dict[str, str]) -> None:
    with hub_server({"org/model": repo.path}) as hub:
        source = open_source("hf://org/model", env=env | {"HF_ENDPOINT": hub.endpoint})
        seen = [source.upstream().gated]
        for gating in ("auto", "manual"):
            hub.gated["org/model"] = gating
            seen.append(source.upstream().gated)
        del hub.gated["org/model"]
        seen.append(source.upstream().gated)
    assert seen == [None, "auto", "manual", None]


def test_a_gated_repository_is_watched_with_the_token(repo: GitRepo, env: dict[str, str]) -> None:
    first = repo.git("rev-parse", "HEAD")
    second = repo.commit("second", {"config.json": b'{"layers": 2}'})
    with hub_server({"org/model": repo.path}, token=TOKEN) as hub:
        hub_env = env | {"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": TOKEN}
        upstream = open_source("hf://org/model@main", env=hub_env).upstream(since=first)
    assert (upstream.gated, [c.id for c in upstream.commits]) == ("manual", [second])
    assert {r.authorization for r in hub.requests} == {f"Bearer {TOKEN}"}
    assert not any("/resolve/" in r.path for r in hub.requests)


def test_a_pull_request_ref_can_be_watched(repo: GitRepo, env: dict[str, str]) -> None:
    proposed = repo.commit("proposal", {"config.json": b'{"layers": 3}'})
    repo.git("update-ref", "refs/pr/1", proposed)
    repo.git("reset", "--quiet", "--hard", "HEAD~1")
    with hub_server({"org/model": repo.path}) as hub:
        upstream = open_source("hf://org/model@refs/pr/1", env=env | {"HF_ENDPOINT": hub.endpoint}).upstream()
    assert (upstream.revision, upstream.pinned) == (proposed, False)


def test_an_unknown_repository_says_so(repo: GitRepo, env: dict[str, str]) -> None:
    with (
        hub_server({"org/model": repo.path}) as hub,
        pytest.raises(SourceError, match="has no repository org/other, or it is private"),
    ):
        open_source("hf://org/other@main", env=env | {"HF_ENDPOINT": hub.endpoint}).upstream()
