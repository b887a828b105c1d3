"""ArtifactStore: ingest (copy while hashing), blobs, dedupe, documents and read-only snapshot views."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from modelsteward.core import FileEntry, Manifest
from modelsteward.store import ArtifactStore, StoreError, hash_tree

SHARD = 1024
FILES = {
    "model.safetensors": 5 * SHARD + 3,
    "config.json": 120,
    "empty.txt": 0,
    "exact.bin": SHARD,
    "tokenizer/vocab.txt": 700,
}


@pytest.fixture
def model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    for name, size in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(os.urandom(size))
    return folder


def _blobs(store: ArtifactStore) -> list[Path]:
    return sorted(p for p in (store.root / "blobs").rglob("*") if p.is_file())


def _temps(store: ArtifactStore) -> list[Path]:
    return sorted((store.root / "tmp").iterdir())


def test_ingest_returns_the_manifest_hash_tree_computes(model: Path, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    manifest = store.ingest(model, list(FILES), jobs=3, shard_size=SHARD)
    assert manifest == hash_tree(model, list(FILES), jobs=1, shard_size=SHARD)
    assert [e.path for e in manifest.files] == sorted(FILES)
    assert len(manifest.get("model.safetensors").shards) == 6  # type: ignore[union-attr]


def test_every_blob_holds_its_file_read_only_under_its_address(model: Path, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    manifest = store.ingest(model, list(FILES), shard_size=SHARD)
    for entry in manifest.files:
        blob = store.path(entry.digest)
        assert blob == store.root / "blobs" / "sha256" / entry.sha256[:2] / entry.sha256
        assert blob.read_bytes() == (model / entry.path).read_bytes()
        assert stat.S_IMODE(blob.stat().st_mode) == 0o444
        assert store.has(entry.digest)
        assert store.read(entry.digest) == (model / entry.path).read_bytes()
        with store.open(entry.digest) as handle:
            assert handle.read() == (model / entry.path).read_bytes()
    assert len(_blobs(store)) == len(FILES)
    assert _temps(store) == []


def test_same_content_is_stored_once(model: Path, tmp_path: Path) -> None:
    (model / "copy.safetensors").write_bytes((model / "model.safetensors").read_bytes())
    store = ArtifactStore(tmp_path / "store")
    first = store.ingest(model, [*FILES, "copy.safetensors"], shard_size=SHARD)
    blobs = _blobs(store)
    inodes = [p.stat().st_ino for p in blobs]
    second = store.ingest(model, [*FILES, "copy.safetensors"], shard_size=SHARD)
    assert first == second
    assert len(blobs) == len(FILES)
    assert [p.stat().st_ino for p in _blobs(store)] == inodes  # existing blobs were not replaced
    assert _temps(store) == []


def test_a_truncated_blob_is_replaced_on_the_next_ingest(model: Path, tmp_path: Path) -> None:
    # What an OS crash can leave of a blob that was renamed into place but never flushed.
    store = ArtifactStore(tmp_path / "store")
    manifest = store.ingest(model, ["config.json"])
    blob = store.path(manifest.files[0].digest)
    blob.chmod(0o644)
    blob.write_bytes(b"")
    store.ingest(model, ["config.json"])
    assert blob.read_bytes() == (model / "config.json").read_bytes()


def test_durable_store_gives_the_same_blobs(model: Path, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store", durable=True)
    manifest = store.ingest(model, list(FILES), shard_size=SHARD)
    assert manifest == hash_tree(model, list(FILES), shard_size=SHARD)
    assert all(store.read(e.digest) == (model / e.path).read_bytes() for e in manifest.files)


def test_an_unreadable_file_is_refused_before_anything_is_written(model: Path, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    with pytest.raises(StoreError, match=r"missing\.bin: No such file or directory"):
        store.ingest(model, [*FILES, "missing.bin"], shard_size=SHARD)
    assert _blobs(store) == []
    assert _temps(store) == []


def test_a_file_failing_mid_copy_leaves_no_temp_and_only_whole_blobs(model: Path, tmp_path: Path) -> None:
    # A sysfs file claims 4096 bytes and holds a few: the copy fails once the other files are under way.
    (model / "short.bin").symlink_to("/sys/kernel/uevent_seqnum")
    store = ArtifactStore(tmp_path / "store")
    with pytest.raises(StoreError, match=r"short\.bin: shorter than 4096 bytes"):
        store.ingest(model, [*FILES, "short.bin"], jobs=2, shard_size=SHARD)
    assert _temps(store) == []
    for blob in _blobs(store):
        assert hash_tree(blob.parent, [blob.name], shard_size=SHARD).files[0].sha256 == blob.name


def test_put_bytes_follows_the_manifest_rule(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    data = b'{"report": true}'
    digest = store.put_bytes(data)
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert store.read(digest) == data
    assert store.put_bytes(data) == digest
    assert store.put_bytes(b"") == "sha256:" + hashlib.sha256(b"").hexdigest()
    assert len(_blobs(store)) == 2
    assert _temps(store) == []


@pytest.mark.parametrize("digest", ["sha256:abc", "md5:" + "0" * 64, "0" * 64, "sha256:" + "A" * 64])
def test_malformed_addresses_are_refused(tmp_path: Path, digest: str) -> None:
    store = ArtifactStore(tmp_path / "store")
    with pytest.raises(StoreError, match="not a store address"):
        store.has(digest)


def test_an_absent_blob_is_an_error_naming_it(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    digest = "sha256:" + "0" * 64
    assert not store.has(digest)
    with pytest.raises(StoreError, match=f"{digest}: not in the store"):
        store.path(digest)


def test_materialize_links_every_file_into_a_read_only_view(model: Path, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    manifest = store.ingest(model, list(FILES), shard_size=SHARD)
    view = store.materialize(manifest)
    assert view == store.root / "snapshots" / manifest.digest.removeprefix("sha256:")
    listed = sorted(p.relative_to(view).as_posix() for p in view.rglob("*") if p.is_file())
    assert listed == sorted(FILES)
    for entry in manifest.files:
        assert (view / entry.path).stat().st_ino == store.path(entry.digest).stat().st_ino
    for folder in (view, view / "tokenizer"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o555
    assert hash_tree(view, list(FILES), shard_size=SHARD) == manifest
    assert _temps(store) == []


def test_materialize_reuses_the_view(model: Path, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    manifest = store.ingest(model, list(FILES), shard_size=SHARD)
    view = store.materialize(manifest)
    inode = view.stat().st_ino
    assert ArtifactStore(store.root).materialize(manifest) == view
    assert view.stat().st_ino == inode


def test_materialize_copies_where_links_are_refused(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ArtifactStore(tmp_path / "store")
    manifest = store.ingest(model, list(FILES), shard_size=SHARD)

    def refuse(source: object, target: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    # A file system without hard links cannot be had in a test; its refusal can.
    monkeypatch.setattr(os, "link", refuse)
    view = store.materialize(manifest)
    for entry in manifest.files:
        copy = view / entry.path
        assert copy.stat().st_ino != store.path(entry.digest).stat().st_ino
        assert copy.read_bytes() == (model / entry.path).read_bytes()
        assert stat.S_IMODE(copy.stat().st_mode) == 0o444


def test_materialize_names_the_files_the_store_lacks(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    absent = FileEntry(path="weights.bin", size=3, sha256="1" * 64)
    with pytest.raises(StoreError, match=r"lacks files of manifest sha256:[0-9a-f]+: weights\.bin"):
        store.materialize(Manifest(files=(absent,), shard_size=SHARD))
    assert list((store.root / "snapshots").iterdir()) == []


@pytest.mark.parametrize("path", ["../escape", "/abs", "a/../../b"])
def test_materialize_refuses_paths_outside_the_view(tmp_path: Path, path: str) -> None:
    store = ArtifactStore(tmp_path / "store")
    digest = store.put_bytes(b"x")
    entry = FileEntry(path=path, size=1, sha256=digest.removeprefix("sha256:"))
    with pytest.raises(StoreError, match="not a relative path"):
        store.materialize(Manifest(files=(entry,), shard_size=SHARD))
    assert not (tmp_path / "escape").exists()


def test_materialize_refuses_a_file_that_is_also_a_folder(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    sha256 = store.put_bytes(b"x").removeprefix("sha256:")
    files = (FileEntry(path="a", size=1, sha256=sha256), FileEntry(path="a/b", size=1, sha256=sha256))
    with pytest.raises(StoreError, match="a/b: the manifest also lists a parent of it as a file"):
        store.materialize(Manifest(files=files, shard_size=SHARD))
    assert _temps(store) == []


def test_opening_removes_temp_files_of_dead_writers_only(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    dead_pid = int(dead.stdout)
    tmp = store.root / "tmp"
    (tmp / f"{dead_pid}-00ff-0").write_bytes(b"half a blob")
    stale_view = tmp / f"{dead_pid}-0a0b"
    (stale_view / "sub").mkdir(parents=True)
    (stale_view / "sub" / "file").write_bytes(b"x")
    (stale_view / "sub").chmod(0o555)
    stale_view.chmod(0o555)
    mine = tmp / f"{os.getpid()}-00aa-0"
    mine.write_bytes(b"being written")
    foreign = tmp / "not-a-writer"
    foreign.write_bytes(b"")
    ArtifactStore(store.root)
    assert sorted(p.name for p in tmp.iterdir()) == sorted([mine.name, foreign.name])
