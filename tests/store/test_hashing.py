"""hash_tree: the manifest rule (plain SHA-256, or SHA-256 of shard digests) against hashlib and sha256sum."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from modelsteward.core import FileEntry
from modelsteward.store import StoreError, hash_tree

SHARD = 4096


def _write(folder: Path, sizes: dict[str, int]) -> None:
    for name, size in sizes.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))


def _expected(path: Path, shard_size: int) -> tuple[str, tuple[str, ...]]:
    data = path.read_bytes()
    if len(data) <= shard_size:
        return hashlib.sha256(data).hexdigest(), ()
    shards = tuple(
        hashlib.sha256(data[start : start + shard_size]).hexdigest()
        for start in range(0, len(data), shard_size)
    )
    return hashlib.sha256(b"".join(bytes.fromhex(s) for s in shards)).hexdigest(), shards


@pytest.mark.parametrize(
    ("size", "pieces"),
    [(0, 1), (1, 1), (SHARD - 1, 1), (SHARD, 1), (SHARD + 1, 2), (3 * SHARD, 3), (5 * SHARD + 17, 6)],
)
def test_digest_follows_the_manifest_rule(tmp_path: Path, size: int, pieces: int) -> None:
    _write(tmp_path, {"f.bin": size})
    manifest = hash_tree(tmp_path, ["f.bin"], shard_size=SHARD)
    (entry,) = manifest.files
    sha256, shards = _expected(tmp_path / "f.bin", SHARD)
    assert entry == FileEntry(path="f.bin", size=size, sha256=sha256, shards=shards)
    assert len(shards) == (pieces if pieces > 1 else 0)
    assert manifest.shard_size == SHARD


def test_single_shard_digests_are_what_sha256sum_prints(tmp_path: Path) -> None:
    sizes = {"empty": 0, "small.json": 100, "exact.bin": SHARD, "dir/nested.txt": 10}
    _write(tmp_path, sizes)
    manifest = hash_tree(tmp_path, list(sizes), shard_size=SHARD)
    printed = subprocess.run(["sha256sum", *sizes], cwd=tmp_path, capture_output=True, text=True, check=True)
    by_name = {line.split()[1]: line.split()[0] for line in printed.stdout.splitlines()}
    assert {entry.path: entry.sha256 for entry in manifest.files} == by_name
    assert [entry.path for entry in manifest.files] == sorted(sizes)


def test_parallel_hashing_gives_the_result_of_one_thread(tmp_path: Path) -> None:
    sizes = {f"shard-{i}.bin": (i + 1) * SHARD * 3 + i for i in range(6)} | {"a/b.txt": 5, "c": 0}
    _write(tmp_path, sizes)
    one = hash_tree(tmp_path, list(sizes), jobs=1, shard_size=SHARD)
    many = hash_tree(tmp_path, list(sizes), jobs=8, shard_size=SHARD)
    assert one == many
    assert one.digest == many.digest
    assert sum(len(e.shards) for e in one.files) > 20


def test_default_shard_size_hashes_small_files_whole(tmp_path: Path) -> None:
    _write(tmp_path, {"model.bin": 3 * SHARD})
    (entry,) = hash_tree(tmp_path, ["model.bin"]).files
    assert entry.shards == ()
    assert entry.sha256 == hashlib.sha256((tmp_path / "model.bin").read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (["../outside"], "not a relative path"),
        (["/etc/passwd"], "not a relative path"),
        (["a//b"], "not a relative path"),
        (["./a"], "not a relative path"),
        ([""], "not a relative path"),
        (["a", "a"], "listed twice"),
        (["absent"], "absent: No such file or directory"),
        (["folder"], "folder: not a regular file"),
    ],
)
def test_bad_file_lists_are_refused_with_the_path(tmp_path: Path, files: list[str], message: str) -> None:
    (tmp_path / "a").write_bytes(b"a")
    (tmp_path / "folder").mkdir()
    with pytest.raises(StoreError, match=message):
        hash_tree(tmp_path, files)


def test_shard_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="shard size must be a positive"):
        hash_tree(tmp_path, [], shard_size=0)


def test_a_file_shorter_than_its_size_is_an_error() -> None:
    # sysfs files claim a page (4096 bytes) and hold a few: like a file cut short while it is read.
    folder = Path("/sys/kernel")
    assert (folder / "uevent_seqnum").stat().st_size > len((folder / "uevent_seqnum").read_bytes())
    with pytest.raises(
        StoreError, match=r"uevent_seqnum: shorter than 4096 bytes: it changed while being read"
    ):
        hash_tree(folder, ["uevent_seqnum"])
