"""What a source is and what fetching one gives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class SourceError(Exception):
    """A source that cannot be read: what went wrong, with which source, and what would be right."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A model's files at one pinned revision, readable under ``root``."""

    root: Path
    """The directory under which every listed file lies."""
    files: tuple[str, ...]
    """Relative, ``/``-separated paths, sorted; never version-control internals."""
    revision: str | None
    """The commit the source resolved to; None for a local path not pinned by a clean git checkout."""
    source: str
    """The canonical, pinned source: ``hf://org/name@<sha>``, ``<git url>@<sha>`` or an absolute path."""


class Source(Protocol):
    """Somewhere a model can be fetched from at a pinned revision."""

    @property
    def uri(self) -> str:
        """The source as the user gave it, less any password in a URL."""
        ...

    def fetch(self, into: Path) -> Fetched:
        """Resolve the revision and make the files readable; ``into`` is an empty folder the caller owns."""
        ...
