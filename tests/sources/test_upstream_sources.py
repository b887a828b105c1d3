"""Watching upstream, the same for both kinds: ``hf://`` through a local hub, git through ``file://``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelsteward.sources import SourceError, Upstream, open_source
from tests.sources.hub_server import hub_server
from tests.sources.repos import GitRepo


def card(**metadata: Any) -> bytes:
    """A README.md with ``metadata`` as its front matter."""
    return b"---\n" + yaml.safe_dump(metadata).encode() + b"---\n# A model\n"


@dataclass(frozen=True, slots=True)
class Watched:
    """A repository and the source string that watches it."""

    repo: GitRepo
    base: str
    """The source without a revision."""
    env: dict[str, str]

    def look(self, revision: str | None = None, *, since: str | None = None) -> Upstream:
        uri = self.base if revision is None else f"{self.base}@{revision}"
        return open_source(uri, env=self.env).upstream(since=since)


@pytest.fixture(params=["git", "hf"])
def watched(request: pytest.FixtureRequest, tmp_path: Path, env: dict[str, str]) -> Iterator[Watched]:
    """A model on ``main`` (a card, a config, weights), tagged ``v1`` and branched as ``dev``."""
    repo = GitRepo.create(tmp_path / "model")
    # The filter lets a fetch leave file contents out, as hosting services do.
    repo.git("config", "uploadpack.allowFilter", "true")
    repo.commit(
        "first",
        {
            "README.md": card(license="apache-2.0"),
            "config.json": b'{"layers": 2}\n',
            "model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ",
        },
    )
    repo.git("tag", "--annotate", "--message", "release", "v1")
    repo.git("branch", "dev")
    if request.param == "git":
        yield Watched(repo, repo.path.as_uri(), env)
    else:
        with hub_server({"org/model": repo.path}) as hub:
            yield Watched(repo, "hf://org/model", env | {"HF_ENDPOINT": hub.endpoint})
            assert hub.unexpected == []


def test_the_state_at_the_default_branch(watched: Watched) -> None:
    head = watched.repo.git("rev-parse", "HEAD")
    assert open_source(watched.base, env=watched.env).watchable is True

    upstream = watched.look()

    assert upstream == Upstream(
        source=watched.base,
        revision=head,
        pinned=False,
        licenses=("apache-2.0",),
        license_link=None,
        gated=None,
        new_version=None,
        files=upstream.files,
    )
    assert sorted(upstream.files) == ["README.md", "config.json", "model.safetensors"]
    assert upstream.files["config.json"] == watched.repo.git("rev-parse", "HEAD:config.json")


def test_a_new_commit_moves_the_branch_and_shows_which_files_changed(watched: Watched) -> None:
    before = watched.look("main")
    watched.repo.git("rm", "--quiet", "model.safetensors")
    second = watched.repo.commit("second", {"config.json": b'{"layers": 4}\n', "extra/tokenizer.json": b"{}"})

    after = watched.look("main")

    assert (before.revision, after.revision) == (watched.repo.git("rev-parse", "v1^{commit}"), second)
    assert set(before.files) - set(after.files) == {"model.safetensors"}
    assert set(after.files) - set(before.files) == {"extra/tokenizer.json"}
    assert after.files["config.json"] != before.files["config.json"]
    assert after.files["README.md"] == before.files["README.md"]
    assert replace(watched.look("v1"), source=before.source) == before
    assert watched.look("dev").revision == before.revision


@pytest.mark.parametrize(
    ("metadata", "licenses", "link"),
    [
        ({"license": "cc-by-nc-4.0"}, ("cc-by-nc-4.0",), None),
        ({"license": ["MIT", "Apache-2.0"]}, ("mit", "apache-2.0"), None),
        ({"license": "other", "license_name": "Llama3", "license_link": "LICENSE"}, ("llama3",), "LICENSE"),
        ({"license": "other"}, ("other",), None),
        ({"tags": ["text"]}, (), None),
    ],
)
def test_a_licence_change_on_the_card_is_seen(
    watched: Watched, metadata: dict[str, Any], licenses: tuple[str, ...], link: str | None
) -> None:
    assert watched.look().licenses == ("apache-2.0",)
    watched.repo.commit("relicense", {"README.md": card(**metadata)})
    upstream = watched.look()
    assert (upstream.licenses, upstream.license_link) == (licenses, link)


def test_a_card_without_front_matter_or_no_card_declares_nothing(watched: Watched) -> None:
    watched.repo.commit("plain card", {"README.md": b"# A model\n\nNo metadata.\n"})
    assert watched.look().licenses == ()
    watched.repo.git("rm", "--quiet", "README.md")
    watched.repo.commit("no card")
    upstream = watched.look()
    assert (upstream.licenses, upstream.new_version, "README.md" in upstream.files) == ((), None, False)


def test_a_new_version_pointer_is_seen(watched: Watched) -> None:
    watched.repo.commit("point on", {"README.md": card(license="apache-2.0", new_version="org/model-v2")})
    assert watched.look().new_version == "org/model-v2"


def test_declared_and_commit_text_is_made_printable_and_bounded(watched: Watched) -> None:
    first = watched.repo.git("rev-parse", "HEAD")
    metadata = {
        "license": ["MIT\x1b]0;owned\x07\x1b[2J", "x" * 300],
        "license_link": "LICENSE\x9b31m\u202e",
        "new_version": "org/next\nInjected: yes\x7f",
    }
    watched.repo.commit(
        "relicensed\x1b[2J\x07\n\nline one\nbell\x07 " + "y" * 3000, {"README.md": card(**metadata)}
    )

    upstream = watched.look(since=first)

    assert upstream.licenses == ("mit?]0;owned??[2j", "x" * 200 + "...")
    assert (upstream.license_link, upstream.new_version) == ("LICENSE?31m?", "org/next?Injected: yes?")
    (commit,) = upstream.commits
    assert commit.title == "relicensed?[2J?"
    assert commit.message.startswith("line one\nbell? yyy") and commit.message.endswith("y...")
    assert len(commit.message) == 2003


@pytest.mark.parametrize(
    ("key", "value"), [("license", 42), ("license", ["mit", None]), ("new_version", ["org/a", "org/b"])]
)
def test_a_malformed_declaration_is_an_error_not_nothing(watched: Watched, key: str, value: object) -> None:
    head = watched.repo.commit("broken", {"README.md": card(**{key: value})})
    with pytest.raises(SourceError, match=rf"^{re.escape(watched.base)}: .* at {head}: `{key}` must be"):
        watched.look()


@pytest.mark.parametrize(
    ("delete", "revision"), [(("tag", "--delete", "v1"), "v1"), (("branch", "--delete", "dev"), "dev")]
)
def test_a_vanished_branch_or_tag_is_named_with_those_that_remain(
    watched: Watched, delete: tuple[str, ...], revision: str
) -> None:
    assert watched.look(revision).revision == watched.repo.git("rev-parse", "HEAD")
    watched.repo.git(*delete)
    remaining = "branches dev, main and no tags" if revision == "v1" else "branches main and tags v1"
    message = (
        rf"^{re.escape(watched.base)}@{revision}: the repository has no branch or tag '{revision}' .*; "
        rf"it has {remaining}; track one of those, or give a full commit id"
    )
    with pytest.raises(SourceError, match=message):
        watched.look(revision)


def test_an_abbreviated_commit_cannot_be_watched(watched: Watched) -> None:
    with pytest.raises(SourceError, match=r"has no branch or tag .*give a full commit id"):
        watched.look(watched.repo.git("rev-parse", "--short", "HEAD"))


def test_a_pinned_commit_never_moves(watched: Watched) -> None:
    first = watched.repo.git("rev-parse", "HEAD")
    watched.repo.commit("second", {"README.md": card(license="cc-by-nc-4.0")})

    pinned = watched.look(first.upper())

    assert (pinned.revision, pinned.pinned, pinned.licenses) == (first, True, ("apache-2.0",))
    assert watched.look("main").pinned is False


def test_a_missing_pinned_commit_is_an_error(watched: Watched) -> None:
    with pytest.raises(SourceError, match=f"^{re.escape(watched.base)}@{'0' * 40}: "):
        watched.look("0" * 40)


def test_the_commits_since_a_revision(watched: Watched) -> None:
    first = watched.repo.git("rev-parse", "HEAD")
    second = watched.repo.commit("second: wider\n\nFour layers now.\nSee the paper.", {"config.json": b"4"})
    third = watched.repo.commit("third", {"config.json": b"8"})

    upstream = watched.look(since=first)

    assert [(c.id, c.title, c.message, c.authors) for c in upstream.commits] == [
        (third, "third", "", ("Steward Tests",)),
        (second, "second: wider", "Four layers now.\nSee the paper.", ("Steward Tests",)),
    ]
    assert all(c.date.tzinfo is not None for c in upstream.commits)
    assert upstream.commits[0].date >= upstream.commits[1].date
    assert upstream.diverged is False
    assert watched.look(since=second).commits[0].id == third
    assert watched.look(since=third).commits == ()
    assert watched.look().commits == ()


def test_a_rewritten_history_is_said_to_have_diverged(watched: Watched) -> None:
    first = watched.repo.git("rev-parse", "HEAD")
    watched.repo.git("checkout", "--quiet", "--orphan", "rewritten")
    rewritten = watched.repo.commit("squashed", {"config.json": b"{}"})
    watched.repo.git("branch", "--force", "main", rewritten)
    watched.repo.git("checkout", "--quiet", "main")

    upstream = watched.look("main", since=first)

    assert (upstream.revision, upstream.commits, upstream.diverged) == (rewritten, (), True)
    assert watched.look("main", since="f" * 40).diverged is True


@pytest.mark.parametrize("since", ["main", "abc123", "g" * 40])
def test_since_must_be_a_full_commit_id(watched: Watched, since: str) -> None:
    with pytest.raises(SourceError, match=f"since a full commit id .*not '{since}'"):
        watched.look(since=since)


def test_a_local_folder_has_no_upstream(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "model").mkdir()
    source = open_source(str(tmp_path / "model"), env=env)
    assert source.watchable is False
    with pytest.raises(SourceError, match=r"model: a local file or folder has no upstream to watch; admit"):
        source.upstream()
