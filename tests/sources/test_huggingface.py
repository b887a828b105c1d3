"""``hf://`` sources through the real ``huggingface_hub`` client, against a local hub."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants

from modelsteward.sources import Fetched, SourceError, open_source
from tests.sources.hub_server import Hub, hub_server
from tests.sources.repos import GitRepo

TOKEN = "hf_test_token"  # noqa: S105 - a test token the local hub expects


@pytest.fixture
def hub(model_repo: GitRepo) -> Iterator[Hub]:
    """A hub serving ``model_repo`` as ``org/model``, with no token required."""
    with hub_server({"org/model": model_repo.path}) as open_hub:
        yield open_hub


def fetch(uri: str, into: Path, env: dict[str, str]) -> Fetched:
    into.mkdir()
    return open_source(uri, env=env).fetch(into)


def test_a_branch_is_downloaded_at_the_commit_it_resolves_to(
    hub: Hub, model_repo: GitRepo, tmp_path: Path, env: dict[str, str]
) -> None:
    head = model_repo.git("rev-parse", "HEAD")

    fetched = fetch("hf://org/model@main", tmp_path / "into", env | {"HF_ENDPOINT": hub.endpoint})

    assert fetched == Fetched(
        root=tmp_path / "into",
        files=("config.json", "weights/part-1.bin"),
        revision=head,
        source=f"hf://org/model@{head}",
    )
    assert (tmp_path / "into" / "weights" / "part-1.bin").read_bytes() == b"\x00\x01\x02"
    # Only the first request names the branch: the listing and every file ask for the commit.
    assert hub.requests[0].path == "/api/models/org/model/revision/main"
    assert all(head in r.path for r in hub.requests[1:])
    assert {r.method for r in hub.requests[1:]} == {"GET", "HEAD"}
    assert hub.unexpected == []


def test_the_default_branch_and_a_tag(
    hub: Hub, model_repo: GitRepo, tmp_path: Path, env: dict[str, str]
) -> None:
    first = model_repo.git("rev-parse", "HEAD")
    model_repo.git("tag", "v1")
    second = model_repo.commit("second", {"README.md": b"# card\n"})
    env |= {"HF_ENDPOINT": hub.endpoint}

    assert fetch("hf://org/model", tmp_path / "default", env).revision == second
    assert fetch("hf://org/model@v1", tmp_path / "tag", env).revision == first
    assert not (tmp_path / "tag" / "README.md").exists()


def test_a_commit_stays_pinned_when_its_branch_moves(
    hub: Hub, model_repo: GitRepo, tmp_path: Path, env: dict[str, str]
) -> None:
    env |= {"HF_ENDPOINT": hub.endpoint}
    before = fetch("hf://org/model@main", tmp_path / "before", env)
    assert before.revision is not None
    moved = model_repo.commit("moved", {"config.json": b'{"layers": 9}\n'})

    pinned = fetch(f"hf://org/model@{before.revision}", tmp_path / "pinned", env)
    latest = fetch("hf://org/model@main", tmp_path / "latest", env)

    assert (pinned.revision, latest.revision) == (before.revision, moved)
    assert (tmp_path / "pinned" / "config.json").read_bytes() == b'{"layers": 2}\n'
    assert (tmp_path / "latest" / "config.json").read_bytes() == b'{"layers": 9}\n'


def test_the_token_is_sent_as_a_bearer_header(
    model_repo: GitRepo, tmp_path: Path, env: dict[str, str]
) -> None:
    with hub_server({"org/gated": model_repo.path}, token=TOKEN) as hub:
        fetched = fetch(
            "hf://org/gated", tmp_path / "into", env | {"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": TOKEN}
        )
    assert fetched.files == ("config.json", "weights/part-1.bin")
    assert len(hub.requests) > 2
    assert {r.authorization for r in hub.requests} == {f"Bearer {TOKEN}"}


def test_a_gated_repository_without_a_token(
    model_repo: GitRepo, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)  # the process's token must not be used: only the given env counts
    env.pop("HF_TOKEN", None)
    with (
        hub_server({"org/gated": model_repo.path}, token=TOKEN) as hub,
        pytest.raises(SourceError, match="org/gated is gated; set HF_TOKEN"),
    ):
        fetch("hf://org/gated", tmp_path / "into", env | {"HF_ENDPOINT": hub.endpoint})
    assert {r.authorization for r in hub.requests} == {None}


def test_a_wrong_token_is_refused(model_repo: GitRepo, tmp_path: Path, env: dict[str, str]) -> None:
    with hub_server({"org/gated": model_repo.path}, token=TOKEN) as hub:
        wrong = env | {"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": "hf_wrong"}
        with pytest.raises(SourceError, match="refused the token in HF_TOKEN"):
            fetch("hf://org/gated", tmp_path / "into", wrong)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("hf://org/missing", r"has no repository org/missing, or it is private"),
        ("hf://org/model@v9", r"org/model has no branch, tag or commit 'v9'"),
        ("hf://org/model@" + "0" * 40, r"org/model has no branch, tag or commit '0{40}'"),
    ],
)
def test_unknown_repositories_and_revisions(
    hub: Hub, tmp_path: Path, env: dict[str, str], uri: str, message: str
) -> None:
    with pytest.raises(SourceError, match=message):
        fetch(uri, tmp_path / "into", env | {"HF_ENDPOINT": hub.endpoint})
    assert hub.unexpected == []


def test_hf_endpoint_is_read_from_the_given_environment(
    hub: Hub, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    fetched = fetch("hf://org/model", tmp_path / "into", env | {"HF_ENDPOINT": hub.endpoint + "/"})
    assert fetched.files == ("config.json", "weights/part-1.bin")
    assert hub.requests


def test_an_unreachable_hub(tmp_path: Path, env: dict[str, str]) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{unused.getsockname()[1]}"
    with pytest.raises(SourceError, match=f"cannot reach the hub at {endpoint} .*; check HF_ENDPOINT"):
        fetch("hf://org/model", tmp_path / "into", env | {"HF_ENDPOINT": endpoint})


def test_nothing_is_cached_outside_the_folder(hub: Hub, tmp_path: Path, env: dict[str, str]) -> None:
    user_cache = Path(constants.HF_HUB_CACHE) / "models--org--model"
    fetched = fetch("hf://org/model", tmp_path / "into", env | {"HF_ENDPOINT": hub.endpoint})
    assert not user_cache.exists()
    assert (fetched.root / ".cache" / "huggingface").is_dir()
    assert not any(f.startswith(".cache/") for f in fetched.files)


@pytest.mark.parametrize("endpoint", ["http://203.0.113.5", "http://hub.invalid"])
def test_the_client_cannot_reach_beyond_this_machine_in_tests(
    tmp_path: Path, env: dict[str, str], endpoint: str
) -> None:
    # The guard in conftest.py sits under the client's HTTP stack: a stray request fails the test.
    with pytest.raises(AssertionError, match="a test tried to look up"):
        fetch("hf://org/model", tmp_path / "into", env | {"HF_ENDPOINT": endpoint})
