"""What a snapshot holds: every file's path, size and SHA-256; and how two such lists differ."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of a snapshot."""

    path: str
    """Relative to the snapshot root, ``/``-separated."""
    size: int
    sha256: str
    """Hex SHA-256 of the file's bytes when it is one shard (what ``sha256sum`` prints); of a larger
    file, the SHA-256 of its shard digests concatenated as raw bytes, so shards hash in parallel."""
    shards: tuple[str, ...] = ()
    """Hex SHA-256 of each ``shard_size`` piece, in order, when the file has more than one."""

    @property
    def digest(self) -> str:
        """The content address of the file: ``sha256:<hex>``."""
        return f"sha256:{self.sha256}"


@dataclass(frozen=True, slots=True)
class Manifest:
    """Every file of a snapshot, sorted by path."""

    files: tuple[FileEntry, ...]
    shard_size: int
    """Files longer than this are hashed in pieces of this many bytes."""

    @property
    def size(self) -> int:
        """Total bytes of every file."""
        return sum(f.size for f in self.files)

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the canonical JSON of the manifest: the same files give the same digest."""
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def get(self, path: str) -> FileEntry | None:
        """The entry for ``path``, or None."""
        return next((f for f in self.files if f.path == path), None)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready form, read back by :meth:`from_json`."""
        return {
            "shard_size": self.shard_size,
            "files": [
                {
                    "path": f.path,
                    "size": f.size,
                    "sha256": f.sha256,
                    **({"shards": list(f.shards)} if f.shards else {}),
                }
                for f in self.files
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Manifest:
        """Read what :meth:`to_json` wrote; raise ValueError naming a malformed field."""
        try:
            files = data["files"]
            shard_size = int(data["shard_size"])  # type: ignore[call-overload]
            if not isinstance(files, list):
                raise TypeError("files is not a list")
            entries = tuple(
                FileEntry(
                    path=str(f["path"]),
                    size=int(f["size"]),
                    sha256=str(f["sha256"]),
                    shards=tuple(str(s) for s in f.get("shards", ())),
                )
                for f in files
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"malformed manifest: {error}") from None
        return cls(files=tuple(sorted(entries, key=lambda f: f.path)), shard_size=shard_size)


_SHOWN = 5


@dataclass(frozen=True, slots=True)
class ManifestDiff:
    """Paths, sorted, by how they differ from what was expected."""

    changed: tuple[str, ...] = ()
    """Expected and present, with other content."""
    missing: tuple[str, ...] = ()
    """Expected and absent."""
    extra: tuple[str, ...] = ()
    """Present and not expected."""

    @property
    def clean(self) -> bool:
        """True when the files are exactly the expected ones."""
        return not (self.changed or self.missing or self.extra)

    def describe(self) -> str:
        """One line for a reviewer: ``changed: a, b; missing: c``, five paths per kind at most."""
        parts = []
        for kind, paths in (("changed", self.changed), ("missing", self.missing), ("extra", self.extra)):
            if paths:
                more = f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else ""
                parts.append(f"{kind}: {', '.join(paths[:_SHOWN])}{more}")
        return "; ".join(parts) or "no differences"


def compare(expected: Manifest, actual: Manifest) -> ManifestDiff:
    """How ``actual`` differs from ``expected``, file by file (size and digest).

    Both must be hashed with the same shard size, since a larger file's digest depends on it;
    raise ValueError otherwise.
    """
    if expected.shard_size != actual.shard_size:
        raise ValueError(
            f"the manifests were hashed with different shard sizes ({expected.shard_size} and "
            f"{actual.shard_size} bytes): hash the files again with {expected.shard_size}"
        )
    return diff_paths(
        {f.path: (f.size, f.sha256) for f in expected.files},
        {f.path: (f.size, f.sha256) for f in actual.files},
    )


def diff_paths(expected: Mapping[str, Hashable], actual: Mapping[str, Hashable]) -> ManifestDiff:
    """The diff of two maps from path to whatever stands for its content."""
    return ManifestDiff(
        changed=tuple(sorted(p for p in expected.keys() & actual.keys() if expected[p] != actual[p])),
        missing=tuple(sorted(expected.keys() - actual.keys())),
        extra=tuple(sorted(actual.keys() - expected.keys())),
    )
