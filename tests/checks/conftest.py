"""Snapshots built from files written at test time, as a source would hand them to a check."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from modelsteward.core import Snapshot
from modelsteward.store import hash_tree

MakeSnapshot = Callable[[Mapping[str, str | bytes]], Snapshot]


def snapshot_of(root: Path) -> Snapshot:
    """Every file under ``root``, hashed as the store hashes them."""
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return Snapshot(root=root, manifest=hash_tree(root, files, jobs=1), source=str(root))


@pytest.fixture
def make_snapshot(tmp_path: Path) -> MakeSnapshot:
    """Write ``files`` (relative path -> text or bytes) to a fresh folder and snapshot it."""

    def make(files: Mapping[str, str | bytes]) -> Snapshot:
        root = Path(tempfile.mkdtemp(dir=tmp_path))
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return snapshot_of(root)

    return make
