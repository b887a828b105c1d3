"""Local files and folders: listed in place, never beyond the folder, pinned only when a clean checkout."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from modelsteward.sources import Fetched, SourceError, open_source
from tests.sources.repos import GitRepo


def fetch(path: Path, into: Path, env: dict[str, str]) -> Fetched:
    into.mkdir(exist_ok=True)
    return open_source(str(path), env=env).fetch(into)


def write(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def test_a_folder_lists_its_files_recursively_in_place(tmp_path: Path, env: dict[str, str]) -> None:
    model = tmp_path / "model"
    write(model, {"b.bin": b"b", "a/z.json": b"{}", "a/deep/er/w.safetensors": b"w", ".hidden": b"h"})

    fetched = fetch(model, tmp_path / "into", env)

    assert fetched == Fetched(
        root=model,
        files=(".hidden", "a/deep/er/w.safetensors", "a/z.json", "b.bin"),
        revision=None,
        source=str(model),
    )
    assert list((tmp_path / "into").iterdir()) == []


def test_a_single_file_is_listed_by_name_under_its_folder(tmp_path: Path, env: dict[str, str]) -> None:
    write(tmp_path, {"model.onnx": b"onnx", "other.bin": b"not asked for"})
    fetched = fetch(tmp_path / "model.onnx", tmp_path / "into", env)
    assert fetched == Fetched(tmp_path, ("model.onnx",), None, str(tmp_path / "model.onnx"))


def test_git_internals_are_left_out(tmp_path: Path, env: dict[str, str]) -> None:
    model = tmp_path / "model"
    write(model, {".git/HEAD": b"ref", "sub/.git": b"gitdir: elsewhere", "sub/x.bin": b"x", "y.bin": b"y"})
    assert fetch(model, tmp_path / "into", env).files == ("sub/x.bin", "y.bin")


def test_links_inside_the_folder_are_followed(tmp_path: Path, env: dict[str, str]) -> None:
    model = tmp_path / "model"
    write(model, {"blobs/abc": b"weights", "real/config.json": b"{}"})
    (model / "weights.bin").symlink_to("blobs/abc")
    (model / "linked").symlink_to("real", target_is_directory=True)
    assert fetch(model, tmp_path / "into", env).files == (
        "blobs/abc",
        "linked/config.json",
        "real/config.json",
        "weights.bin",
    )


@pytest.mark.parametrize(
    ("name", "target", "message"),
    [
        (
            "secret.bin",
            "../outside/secret",
            "secret.bin is a symbolic link to .*outside.*, outside the folder",
        ),
        ("escape", "../outside", "escape is a symbolic link to .*outside.*, outside the folder"),
        ("dangling.bin", "missing", "dangling.bin is not a regular file"),
        ("loop", ".", "loop links back to a folder that holds it"),
    ],
)
def test_links_that_leave_the_folder_or_lead_nowhere_are_refused(
    tmp_path: Path, env: dict[str, str], name: str, target: str, message: str
) -> None:
    write(tmp_path, {"outside/secret": b"private key", "model/ok.bin": b"ok"})
    (tmp_path / "model" / name).symlink_to(target)
    with pytest.raises(SourceError, match=message):
        fetch(tmp_path / "model", tmp_path / "into", env)


def test_special_files_are_refused(tmp_path: Path, env: dict[str, str]) -> None:
    write(tmp_path, {"model/ok.bin": b"ok"})
    os.mkfifo(tmp_path / "model" / "pipe")
    with pytest.raises(SourceError, match="pipe is not a regular file"):
        fetch(tmp_path / "model", tmp_path / "into", env)


def test_names_that_are_not_utf8_are_refused(tmp_path: Path, env: dict[str, str]) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / os.fsdecode(b"bad\xff.bin")).write_bytes(b"x")
    with pytest.raises(SourceError, match="not a valid UTF-8 name"):
        fetch(model, tmp_path / "into", env)


def test_a_clean_checkout_is_pinned_to_head(model_repo: GitRepo, tmp_path: Path, env: dict[str, str]) -> None:
    head = model_repo.git("rev-parse", "HEAD")
    fetched = fetch(model_repo.path, tmp_path / "into", env)
    assert fetched.files == ("config.json", "weights/part-1.bin")
    assert fetched.revision == head
    assert fetch(model_repo.path / "weights", tmp_path / "into", env).revision == head
    assert fetch(model_repo.path / "config.json", tmp_path / "into", env).revision == head


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda root: (root / "config.json").write_bytes(b'{"layers": 3}\n'), id="modified"),
        pytest.param(lambda root: (root / "config.json").write_bytes(b"{}"), id="resized"),
        pytest.param(lambda root: (root / "notes.txt").write_bytes(b"new"), id="untracked"),
        pytest.param(lambda root: (root / "weights" / "part-1.bin").unlink(), id="deleted"),
        pytest.param(
            lambda root: [
                (root / ".gitignore").write_bytes(b"*.tmp\n"),
                (root / "cache.tmp").write_bytes(b"x"),
            ],
            id="ignored",
        ),
    ],
)
def test_a_checkout_that_differs_from_head_is_not_pinned(
    model_repo: GitRepo, tmp_path: Path, env: dict[str, str], change: Callable[[Path], object]
) -> None:
    change(model_repo.path)
    assert fetch(model_repo.path, tmp_path / "into", env).revision is None


def test_a_file_differing_from_head_is_not_pinned_though_others_match(
    model_repo: GitRepo, tmp_path: Path, env: dict[str, str]
) -> None:
    (model_repo.path / "config.json").write_bytes(b"changed\n")
    assert fetch(model_repo.path / "config.json", tmp_path / "into", env).revision is None
    assert fetch(model_repo.path / "weights", tmp_path / "into", env).revision is not None


def test_git_lfs_files_match_their_pointers(tmp_path: Path, env: dict[str, str]) -> None:
    weights = b"\x93NUMPY" + bytes(4000)
    digest = hashlib.sha256(weights).hexdigest()
    pointer = (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{digest}\nsize {len(weights)}\n".encode()
    )
    repo = GitRepo.create(tmp_path / "model")
    head = repo.commit("lfs", {"model.npy": pointer})
    (repo.path / "model.npy").write_bytes(weights)  # what the LFS filter leaves in the work tree

    assert fetch(repo.path, tmp_path / "into", env).revision == head
    (repo.path / "model.npy").write_bytes(weights[:-1] + b"\x01")
    assert fetch(repo.path, tmp_path / "into", env).revision is None


def test_a_hostile_git_config_runs_nothing(
    model_repo: GitRepo, tmp_path: Path, env: dict[str, str], canary: Path
) -> None:
    canary.parent.mkdir()
    model_repo.git("config", "core.fsmonitor", f"touch {canary}")
    model_repo.git("config", "filter.evil.clean", f"touch {canary}; cat")
    model_repo.git("config", "core.pager", f"touch {canary}; cat")
    (model_repo.path / ".git" / "info" / "attributes").write_bytes(b"* filter=evil\n")
    (model_repo.path / "config.json").write_bytes(b"changed\n")

    assert fetch(model_repo.path, tmp_path / "into", env).revision is None
    assert not canary.exists()
    model_repo.git("status")  # what reading the folder must not do: it runs the configured commands
    assert canary.exists()


def test_without_git_a_checkout_is_simply_not_pinned(model_repo: GitRepo, tmp_path: Path) -> None:
    fetched = fetch(model_repo.path, tmp_path / "into", {"PATH": str(tmp_path / "no-git-here")})
    assert (fetched.files, fetched.revision) == (("config.json", "weights/part-1.bin"), None)


def test_a_path_that_vanished_is_reported(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "model").mkdir()
    source = open_source(str(tmp_path / "model"), env=env)
    (tmp_path / "model").rmdir()
    with pytest.raises(SourceError, match="not a regular file or folder"):
        source.fetch(tmp_path)
