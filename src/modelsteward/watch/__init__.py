"""The watch: upstream revisions and advisories matched against the registry.

``watch_once`` checks every registered model's upstream, admits new revisions as candidate versions
and audits every version's components; ``sync_advisories`` fills the advisory database from an OSV
export and audits what changed. See docs/watch.md.
"""

from modelsteward.watch._audit import Synced, SyncError, audit_registry, sync_advisories
from modelsteward.watch._diff import CandidateDiff, Change, candidate_diff
from modelsteward.watch._watch import ModelWatch, WatchReport, watch_once

__all__ = [
    "CandidateDiff",
    "Change",
    "ModelWatch",
    "SyncError",
    "Synced",
    "WatchReport",
    "audit_registry",
    "candidate_diff",
    "sync_advisories",
    "watch_once",
]
