"""Snapshots built from files written at test time, as a source would hand them to the check."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from modelsteward.core import FileEntry, Manifest, Snapshot

MakeSnapshot = Callable[[Mapping[str, str | bytes]], Snapshot]


def snapshot_of(root: Path) -> Snapshot:
    """Every file under ``root`` as a snapshot, with its manifest."""
    entries = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        entries.append(
            FileEntry(path.relative_to(root).as_posix(), len(data), hashlib.sha256(data).hexdigest())
        )
    return Snapshot(root=root, manifest=Manifest(files=tuple(entries), shard_size=1 << 30), source=str(root))


def card(metadata: str, body: str = "# A model\n\nIt embeds sentences.\n") -> str:
    """A model card: ``metadata`` (YAML) between ``---`` fences, then ``body``."""
    return f"---\n{metadata.strip()}\n---\n{body}"


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
