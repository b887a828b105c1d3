"""Audits of the whole registry against the advisory database, full or over new advisories only."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from modelsteward.checks.dependencies import (
    Advisory,
    AdvisoryError,
    AdvisoryIndex,
    FeedError,
    parse_osv,
    read_feed,
    shown_location,
)
from modelsteward.core.progress import Progress
from modelsteward.registry import AdvisorySync, Registry, StoredAdvisory, VulnerabilityChanges


class SyncError(Exception):
    """An export that cannot be read at all; nothing was stored."""


@dataclass(frozen=True, slots=True)
class Synced:
    """What ``advisories sync`` did."""

    sync: AdvisorySync
    changes: VulnerabilityChanges
    """What the audit of the new and updated advisories found and resolved across the registry."""
    other_ecosystems: int
    """Records read that affect no PyPI package: not stored."""
    invalid: tuple[str, ...]
    """``where: why`` of each record that breaks the OSV schema: not stored."""


def audit_registry(
    registry: Registry, *, scope: Collection[str] | None = None, actor: str
) -> VulnerabilityChanges:
    """Match every registered version's components against the advisories and record the result.

    With ``scope`` (advisory ids), only the components those advisories name are matched and only
    their vulnerabilities can be resolved: the incremental audit after a sync.
    """
    uses = registry.component_uses(advisories=scope)
    index = AdvisoryIndex(registry.advisory_records({use.component.name for use in uses}))
    found = [(ref, v) for use in uses for v in index.match(use.component) for ref in use.refs]
    return registry.record_vulnerabilities(found, scope=scope, actor=actor)


def sync_advisories(
    registry: Registry, location: str, *, env: dict[str, str] | None = None, actor: str, progress: Progress
) -> Synced:
    """Store the advisories of an OSV export (URL, folder or zip), then audit the registry for what changed.

    Records that break the schema are skipped and listed; an export that cannot be read stores nothing.
    """
    invalid: list[str] = []
    skipped = 0

    def stored() -> Iterator[StoredAdvisory]:
        nonlocal skipped
        for count, (where, record) in enumerate(read_feed(location, env=env), start=1):
            if count % 1000 == 0:
                progress(f"read {count} records")
            try:
                advisory = parse_osv(record)
            except AdvisoryError as error:
                invalid.append(f"{where}: {error}")
                continue
            if not advisory.affected:
                skipped += 1
                continue
            yield _stored(advisory)

    # A URL may carry a token: only its shown form is printed or kept in the audit log.
    shown = shown_location(location)
    progress(f"reading {shown}")
    try:
        # Read whole before storing: the registry's write lock is not held through a download.
        advisories = list(stored())
    except FeedError as error:
        raise SyncError(str(error)) from None
    sync = registry.store_advisories(advisories, origin=shown, actor=actor)
    progress(f"auditing the registry against {len(sync.changed)} new and updated advisories")
    changes = audit_registry(registry, scope=sync.changed, actor=actor) if sync.changed else _NOTHING
    return Synced(sync, changes, skipped, tuple(invalid))


_NOTHING = VulnerabilityChanges(found=(), resolved=(), holding=0)


def _stored(advisory: Advisory) -> StoredAdvisory:
    return StoredAdvisory(
        id=advisory.id,
        modified=advisory.modified,
        withdrawn=advisory.withdrawn is not None,
        packages=tuple(sorted({a.name for a in advisory.affected})),
        record=json.dumps(advisory.to_json(), separators=(",", ":")),
    )


__all__ = ["SyncError", "Synced", "audit_registry", "sync_advisories"]
