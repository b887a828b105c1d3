"""Git sources: real repositories cloned and checked out at a branch, tag or commit."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from modelsteward.sources import Fetched, SourceError, open_source
from modelsteward.sources._git import GitSource
from tests.sources.repos import GitRepo


@pytest.fixture
def history(model_repo: GitRepo) -> dict[str, str]:
    """``model_repo`` with a tag ``v1`` on the first commit, a second on ``main``, a third on ``feature``."""
    commits = {"first": model_repo.git("rev-parse", "HEAD")}
    model_repo.git("tag", "--annotate", "--message", "release", "v1")
    commits["second"] = model_repo.commit(
        "second", {"config.json": b'{"layers": 4}\n', "README.md": b"# m\n"}
    )
    model_repo.git("switch", "--quiet", "--create", "feature/wide")
    commits["third"] = model_repo.commit("third", {"adapter.bin": b"adapter"})
    model_repo.git("switch", "--quiet", "main")
    return commits


def fetch(uri: str, into: Path, env: dict[str, str]) -> Fetched:
    into.mkdir()
    return open_source(uri, env=env).fetch(into)


SECOND = ("README.md", "config.json", "weights/part-1.bin")


@pytest.mark.parametrize(
    ("revision", "commit", "files", "layers"),
    [
        (None, "second", SECOND, 4),
        ("main", "second", SECOND, 4),
        ("v1", "first", ("config.json", "weights/part-1.bin"), 2),
        ("feature/wide", "third", ("README.md", "adapter.bin", "config.json", "weights/part-1.bin"), 4),
    ],
)
def test_a_revision_resolves_to_its_commit(
    model_repo: GitRepo,
    history: dict[str, str],
    tmp_path: Path,
    env: dict[str, str],
    revision: str | None,
    commit: str,
    files: tuple[str, ...],
    layers: int,
) -> None:
    url = model_repo.path.as_uri() + (f"@{revision}" if revision else "")
    fetched = fetch(url, tmp_path / "into", env)
    assert fetched == Fetched(
        root=tmp_path / "into",
        files=files,
        revision=history[commit],
        source=f"{model_repo.path.as_uri()}@{history[commit]}",
    )
    assert (tmp_path / "into" / "config.json").read_text() == f'{{"layers": {layers}}}\n'


def test_a_commit_full_or_abbreviated(
    model_repo: GitRepo, history: dict[str, str], tmp_path: Path, env: dict[str, str]
) -> None:
    first = history["first"]
    fetched = fetch(f"{model_repo.path}@{first}", tmp_path / "full", env)
    assert (fetched.revision, fetched.source) == (first, f"{model_repo.path}@{first}")
    assert (tmp_path / "full" / "config.json").read_bytes() == b'{"layers": 2}\n'
    assert fetch(f"{model_repo.path}@{first[:10]}", tmp_path / "short", env).revision == first


def test_only_the_files_of_the_commit_are_listed(
    model_repo: GitRepo, history: dict[str, str], tmp_path: Path, env: dict[str, str]
) -> None:
    model_repo.git("update-index", "--add", "--cacheinfo", f"160000,{history['first']},vendor/submodule")
    model_repo.git("commit", "--quiet", "--message", "a submodule")
    with_submodule = model_repo.git("rev-parse", "HEAD")

    fetched = fetch(f"{model_repo.path}@main", tmp_path / "into", env)

    assert fetched.revision == with_submodule
    assert fetched.files == SECOND
    assert (tmp_path / "into" / ".git").is_dir()
    assert "vendor/submodule" in model_repo.git("ls-tree", "-r", "--name-only", "HEAD")


def test_symbolic_links_are_checked_out_as_plain_files(tmp_path: Path, env: dict[str, str]) -> None:
    repo = GitRepo.create(tmp_path / "model")
    (repo.path / "key.pem").symlink_to("/etc/hostname")
    repo.commit("a link out")

    fetched = fetch(repo.path.as_uri(), tmp_path / "into", env)

    assert fetched.files == ("key.pem",)
    assert not (tmp_path / "into" / "key.pem").is_symlink()
    assert (tmp_path / "into" / "key.pem").read_bytes() == b"/etc/hostname"


def test_a_bare_repository_is_cloned_at_its_head(
    model_repo: GitRepo, history: dict[str, str], tmp_path: Path, env: dict[str, str]
) -> None:
    bare = GitRepo.create(tmp_path / "bare.git", bare=True)
    model_repo.git("push", "--quiet", str(bare.path), "main", "v1")
    assert fetch(str(bare.path), tmp_path / "head", env).revision == history["second"]
    assert fetch(f"{bare.path}@v1", tmp_path / "tag", env).revision == history["first"]


def test_an_unknown_revision_is_named(
    model_repo: GitRepo, history: dict[str, str], tmp_path: Path, env: dict[str, str]
) -> None:
    with pytest.raises(SourceError, match="has no branch, tag or commit 'v9'"):
        fetch(f"{model_repo.path}@v9", tmp_path / "into", env)


def test_a_revision_cannot_become_an_option(
    model_repo: GitRepo, history: dict[str, str], tmp_path: Path, env: dict[str, str]
) -> None:
    with pytest.raises(SourceError, match="has no branch, tag or commit '--output=x'"):
        fetch(f"{model_repo.path}@--output=x", tmp_path / "into", env)
    assert not (tmp_path / "into" / "x").exists()


def test_a_missing_repository_reports_what_git_said(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(
        SourceError, match=r"nowhere: cannot clone: .*nowhere' does not appear to be a git repository"
    ):
        fetch((tmp_path / "nowhere").as_uri(), tmp_path / "into", env)


def test_an_empty_repository_has_nothing_to_fetch(tmp_path: Path, env: dict[str, str]) -> None:
    empty = GitRepo.create(tmp_path / "empty")
    with pytest.raises(SourceError, match="has no commits"):
        fetch(empty.path.as_uri(), tmp_path / "into", env)


def test_a_url_that_looks_like_an_option_stays_a_url(
    tmp_path: Path, env: dict[str, str], canary: Path
) -> None:
    canary.parent.mkdir()
    (tmp_path / "into").mkdir()
    source = GitSource(uri="-", url=f"--upload-pack=touch {canary}", shown="-", revision=None, env=env)
    with pytest.raises(SourceError, match="cannot clone"):
        source.fetch(tmp_path / "into")
    assert not canary.exists()


def test_a_password_in_the_url_stays_out_of_messages(tmp_path: Path, env: dict[str, str]) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(SourceError, match="cannot clone") as raised:
        fetch(f"http://me:hunter2@127.0.0.1:{port}/org/repo.git", tmp_path / "into", env)
    assert "hunter2" not in str(raised.value)
    assert str(raised.value).startswith(f"http://me@127.0.0.1:{port}/org/repo.git: cannot clone: ")


def test_git_must_be_installed(model_repo: GitRepo, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="git is not installed"):
        fetch(model_repo.path.as_uri(), tmp_path / "into", {"PATH": str(tmp_path / "no-git-here")})
