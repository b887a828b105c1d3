"""Watching a git repository: ``git ls-remote``, then one commit's tree and card, never its other files."""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from modelsteward.sources import SourceError, open_source
from modelsteward.sources._git import GitSource
from tests.sources.repos import GitRepo

CARD = b"---\nlicense: mit\n---\n# A model\n"
WEIGHTS = bytes(range(256)) * 64


@pytest.fixture
def server(tmp_path: Path) -> tuple[GitRepo, GitRepo]:
    """A work repository and the bare repository it pushes ``main`` to, which serves it."""
    work = GitRepo.create(tmp_path / "work")
    work.commit("first", {"README.md": CARD, "model.bin": WEIGHTS})
    bare = GitRepo.create(tmp_path / "served.git", bare=True)
    work.git("push", "--quiet", str(bare.path), "main")
    return work, bare


def drop_object(repo: GitRepo, oid: str) -> None:
    """Delete a loose object from ``repo``: any fetch that would send it now fails."""
    (repo.path / "objects" / oid[:2] / oid[2:]).unlink()


def test_file_contents_other_than_the_card_are_never_fetched(
    server: tuple[GitRepo, GitRepo], tmp_path: Path, env: dict[str, str]
) -> None:
    work, bare = server
    bare.git("config", "uploadpack.allowFilter", "true")
    weights = work.git("rev-parse", "HEAD:model.bin")
    drop_object(bare, weights)
    uri = bare.path.as_uri()

    upstream = open_source(uri, env=env).upstream()

    assert (upstream.licenses, upstream.files["model.bin"]) == (("mit",), weights)
    # What a download would need is really gone: only a fetch that leaves it out can succeed.
    (tmp_path / "into").mkdir()
    with pytest.raises(SourceError, match="cannot clone"):
        open_source(uri, env=env).fetch(tmp_path / "into")


def test_the_history_is_fetched_without_file_contents_too(
    server: tuple[GitRepo, GitRepo], env: dict[str, str]
) -> None:
    work, bare = server
    bare.git("config", "uploadpack.allowFilter", "true")
    first = work.git("rev-parse", "HEAD")
    second = work.commit("second", {"model.bin": WEIGHTS[::-1]})
    work.git("push", "--quiet", str(bare.path), "main")
    drop_object(bare, work.git("rev-parse", "HEAD:model.bin"))

    upstream = open_source(bare.path.as_uri(), env=env).upstream(since=first)

    assert [c.id for c in upstream.commits] == [second]


def test_a_server_that_ignores_the_filter_sends_one_commit(
    server: tuple[GitRepo, GitRepo], env: dict[str, str]
) -> None:
    work, bare = server
    drop = work.git("rev-parse", "HEAD:model.bin")
    second = work.commit("second", {"model.bin": b"retrained", "config.json": b"{}"})
    work.git("push", "--quiet", str(bare.path), "main")
    # Without the first commit's weights, a fetch of more than the newest commit would fail.
    drop_object(bare, drop)

    upstream = open_source(f"{bare.path}@main", env=env).upstream()

    assert (upstream.revision, sorted(upstream.files)) == (second, ["README.md", "config.json", "model.bin"])


@pytest.fixture
def dumb_http(server: tuple[GitRepo, GitRepo]) -> Iterator[str]:
    """The bare repository served as plain files over HTTP (git's "dumb" protocol): no shallow fetch."""
    _, bare = server
    bare.git("update-server-info")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(bare.path.parent))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_address[1]}/{bare.path.name}"
    finally:
        http.shutdown()
        http.server_close()
        thread.join()


def test_a_server_without_shallow_fetches_gets_a_plain_fetch(
    server: tuple[GitRepo, GitRepo], dumb_http: str, env: dict[str, str]
) -> None:
    work, bare = server
    first = work.git("rev-parse", "HEAD")
    second = work.commit("second", {"README.md": b"---\nlicense: cc-by-4.0\n---\n"})
    work.git("push", "--quiet", str(bare.path), "main")
    bare.git("update-server-info")

    upstream = open_source(f"{dumb_http}@main", env=env).upstream(since=first)

    assert (upstream.revision, upstream.licenses) == (second, ("cc-by-4.0",))
    assert [c.id for c in upstream.commits] == [second]


def test_an_unreadable_card_is_an_error_naming_where(model_repo: GitRepo, env: dict[str, str]) -> None:
    head = model_repo.commit("broken card", {"README.md": b"---\nlicense: [mit\n---\n"})
    message = rf"the card at {head} cannot be read: README.md:2:14: the metadata is not valid YAML: expected"
    with pytest.raises(SourceError, match=message):
        open_source(model_repo.path.as_uri(), env=env).upstream()


def test_an_empty_repository_has_nothing_to_watch(tmp_path: Path, env: dict[str, str]) -> None:
    empty = GitRepo.create(tmp_path / "empty")
    with pytest.raises(SourceError, match="the repository has no commits, so nothing to watch"):
        open_source(empty.path.as_uri(), env=env).upstream()


def test_a_missing_repository_reports_what_git_said(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(SourceError, match=r"nowhere: cannot list the refs: .*does not appear to be a git"):
        open_source((tmp_path / "nowhere").as_uri(), env=env).upstream()


def test_a_password_in_the_url_stays_out_of_messages(env: dict[str, str]) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(SourceError, match="cannot list the refs") as raised:
        open_source(f"http://me:hunter2@127.0.0.1:{port}/org/repo.git@main", env=env).upstream()
    assert "hunter2" not in str(raised.value)
    assert str(raised.value).startswith(f"http://me@127.0.0.1:{port}/org/repo.git@main: ")


def test_a_url_that_looks_like_an_option_stays_a_url(env: dict[str, str], canary: Path) -> None:
    canary.parent.mkdir()
    source = GitSource(uri="-", url=f"--upload-pack=touch {canary}", shown="-", revision=None, env=env)
    with pytest.raises(SourceError, match="cannot list the refs"):
        source.upstream()
    assert not canary.exists()
