"""Snapshots of model folders for the documentation check."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from modelsteward.core import FileEntry, Manifest, Snapshot

SnapshotOf = Callable[[Path], Snapshot]
WriteModel = Callable[..., Snapshot]


def snapshot_of(root: Path) -> Snapshot:
    """The snapshot of every regular file under ``root``."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    entries = tuple(
        FileEntry(
            p.relative_to(root).as_posix(), p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest()
        )
        for p in files
    )
    return Snapshot(root=root, manifest=Manifest(files=entries, shard_size=1 << 30), source=str(root))


@pytest.fixture
def write_model(tmp_path: Path) -> WriteModel:
    """Write ``files`` (relative path -> text) into a model folder and return its snapshot."""

    def write(files: dict[str, str]) -> Snapshot:
        root = tmp_path / "model"
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        return snapshot_of(root)

    return write


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
