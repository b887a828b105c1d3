"""Reading a source string: which kind it is, its revision, and clear errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsteward.sources import SourceError, open_source
from modelsteward.sources._git import GitSource
from modelsteward.sources._huggingface import HuggingFaceSource
from modelsteward.sources._local import LocalSource
from tests.sources.repos import GitRepo

HUB = {"HF_ENDPOINT": "http://127.0.0.1:9/", "HF_TOKEN": "hf_secret"}


@pytest.mark.parametrize(
    ("uri", "repo_id", "revision"),
    [
        ("hf://org/name", "org/name", None),
        ("hf://org/name@main", "org/name", "main"),
        ("hf://org/name@refs/pr/1", "org/name", "refs/pr/1"),
        ("hf://Org-1/model.v2_x@v1.0", "Org-1/model.v2_x", "v1.0"),
    ],
)
def test_hub_repository_and_revision(uri: str, repo_id: str, revision: str | None) -> None:
    source = open_source(uri, env=HUB)
    assert isinstance(source, HuggingFaceSource)
    assert (source.uri, source.repo_id, source.revision) == (uri, repo_id, revision)


def test_hub_endpoint_and_token_come_from_the_given_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.2:1")
    monkeypatch.setenv("HF_TOKEN", "from-the-process")
    source = open_source("hf://org/name", env=HUB)
    assert isinstance(source, HuggingFaceSource)
    assert (source.endpoint, source.token) == ("http://127.0.0.1:9", "hf_secret")
    assert "hf_secret" not in repr(source)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("hf://name", "expected hf://org/name"),
        ("hf://org/name/extra", "expected hf://org/name"),
        ("hf://org/name@", "nothing after '@'"),
        ("hf://-org/name", "expected hf://org/name"),
    ],
)
def test_malformed_hub_sources(uri: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        open_source(uri, env=HUB)


def test_hub_endpoint_must_be_a_web_url() -> None:
    with pytest.raises(SourceError, match="HF_ENDPOINT must be an http"):
        open_source("hf://org/name", env={"HF_ENDPOINT": "ftp://mirror"})


@pytest.mark.parametrize(
    ("uri", "url", "shown", "revision"),
    [
        ("https://host.invalid/org/repo.git", "https://host.invalid/org/repo.git", None, None),
        ("https://host.invalid/org/repo.git@v1.0", "https://host.invalid/org/repo.git", None, "v1.0"),
        ("https://host.invalid/org/repo@feature/x", "https://host.invalid/org/repo", None, "feature/x"),
        ("ssh://git@host.invalid/org/repo.git", "ssh://git@host.invalid/org/repo.git", None, None),
        ("ssh://git@host.invalid/org/repo.git@abc123", "ssh://git@host.invalid/org/repo.git", None, "abc123"),
        ("git@host.invalid:org/repo.git", "git@host.invalid:org/repo.git", None, None),
        ("git@host.invalid:org/repo.git@v2", "git@host.invalid:org/repo.git", None, "v2"),
        (
            "https://me:hunter2@host.invalid/org/repo.git@main",
            "https://me:hunter2@host.invalid/org/repo.git",
            "https://me@host.invalid/org/repo.git",
            "main",
        ),
    ],
)
def test_remote_git_urls(uri: str, url: str, shown: str | None, revision: str | None) -> None:
    source = open_source(uri, env={})
    assert isinstance(source, GitSource)
    assert (source.url, source.shown, source.revision) == (url, shown or url, revision)


def test_paths(tmp_path: Path, model_repo: GitRepo) -> None:
    bare = GitRepo.create(tmp_path / "bare.git", bare=True)
    plain = tmp_path / "plain"
    plain.mkdir()

    work_tree = open_source(str(model_repo.path), env={})
    assert isinstance(work_tree, LocalSource)
    assert work_tree.path == model_repo.path

    at_tag = open_source(f"{model_repo.path}@v1", env={})
    assert isinstance(at_tag, GitSource)
    assert (at_tag.url, at_tag.shown, at_tag.revision) == (
        model_repo.path.as_uri(),
        str(model_repo.path),
        "v1",
    )

    bare_source = open_source(str(bare.path), env={})
    assert isinstance(bare_source, GitSource)
    assert bare_source.revision is None

    file_url = open_source(model_repo.path.as_uri() + "@main", env={})
    assert isinstance(file_url, GitSource)
    assert (file_url.url, file_url.revision) == (model_repo.path.as_uri(), "main")

    with pytest.raises(SourceError, match="is not a git repository"):
        open_source(f"{plain}@v1", env={})


def test_relative_paths_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "model").mkdir()
    monkeypatch.chdir(tmp_path)
    source = open_source("model", env={})
    assert isinstance(source, LocalSource)
    assert source.path == tmp_path / "model"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("", "no source given"),
        ("s3://bucket/model", "unsupported scheme 's3'"),
        ("/no/such/model", "no such file or folder"),
        ("https://host.invalid/org/repo.git@", "nothing after '@'"),
    ],
)
def test_sources_that_name_nothing(uri: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        open_source(uri, env={})
