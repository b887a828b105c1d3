"""An immutable local copy of a model's files at one pinned revision."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelsteward.core.manifest import Manifest


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A model's files, readable under ``root``, as the manifest lists them."""

    root: Path
    """A directory holding every file of the manifest at its relative path."""
    manifest: Manifest
    source: str
    """The source as the user gave it (``hf://org/name@main``, a git URL, a path)."""
    revision: str | None = None
    """The commit the source resolved to; None for a local path outside version control."""
