"""``verify``: compare files on disk, or the stored copy, with a registered version's manifest."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelsteward.checks import integrity
from modelsteward.core import Manifest
from modelsteward.core.manifest import ManifestDiff
from modelsteward.registry import Registry, VersionInfo
from modelsteward.settings import Settings
from modelsteward.sources import open_source
from modelsteward.store import ArtifactStore, hash_tree


@dataclass(frozen=True, slots=True)
class Verification:
    """The files of a folder against a registered version."""

    version: VersionInfo
    path: Path
    """The folder that was checked: the one given, or the version's copy in the artifact store."""
    diff: ManifestDiff
    """Changed, missing and extra files."""
    signature: bool
    """Whether the enterprise signature over the registered manifest still verifies."""

    @property
    def ok(self) -> bool:
        """True when every file matches and the signature holds."""
        return self.diff.clean and self.signature

    def to_json(self) -> dict[str, Any]:
        """What ``steward verify --json`` prints, and what its text is drawn from."""
        return {
            "ref": f"{self.version.name}@{self.version.number}",
            "path": str(self.path),
            "ok": self.ok,
            "signature": self.signature,
            "changed": list(self.diff.changed),
            "missing": list(self.diff.missing),
            "extra": list(self.diff.extra),
            "files": len(self.version.manifest.files),
        }


def verify(ref: str, *, settings: Settings, path: Path | None = None) -> Verification:
    """Check ``path`` (default: the stored copy) against version ``ref`` (``NAME@VERSION``).

    Raises ``RegistryError`` for an unknown reference and ``SourceError`` for an unreadable folder.
    """
    store = ArtifactStore(settings.store)
    with Registry.open(settings.database_url) as registry:
        version = registry.get(ref)
    folder = store.materialize(version.manifest) if path is None else path
    actual = _manifest_of(folder, version.manifest.shard_size, settings.jobs)
    bundle = (
        store.path(version.documents["signature"]).read_bytes() if "signature" in version.documents else b""
    )
    public_key = integrity.ensure_key_pair(settings.signing_key)
    signed = bool(bundle) and integrity.verify(version.manifest, bundle, public_key)
    return Verification(
        version=version, path=folder, diff=integrity.compare(version.manifest, actual), signature=signed
    )


def _manifest_of(folder: Path, shard_size: int, jobs: int | None) -> Manifest:
    with tempfile.TemporaryDirectory() as tmp:
        fetched = open_source(str(folder)).fetch(Path(tmp))
        return hash_tree(fetched.root, fetched.files, jobs=jobs, shard_size=shard_size)
