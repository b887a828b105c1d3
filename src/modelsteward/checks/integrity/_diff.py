"""What differs between the files a manifest (or a signature) expects and the files there are."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

from modelsteward.core import Manifest

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
