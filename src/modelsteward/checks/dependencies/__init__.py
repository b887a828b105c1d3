"""The dependencies check: requirements declared by the model, the runtime environment, and advisories.

``run`` lists both as components and audits them against an :class:`AdvisoryIndex` of OSV advisories
(``parse_osv``, read from an export with ``read_feed``). See docs/dependencies.md.
"""

from modelsteward.checks.dependencies._advisory import (
    Advisory,
    AdvisoryError,
    Affected,
    merge_aliases,
    parse_osv,
)
from modelsteward.checks.dependencies._check import UNRATED, run
from modelsteward.checks.dependencies._declared import declared_components
from modelsteward.checks.dependencies._environment import environment_components
from modelsteward.checks.dependencies._feed import FeedError, read_feed, shown_location
from modelsteward.checks.dependencies._index import AdvisoryIndex

__all__ = [
    "UNRATED",
    "Advisory",
    "AdvisoryError",
    "AdvisoryIndex",
    "Affected",
    "FeedError",
    "declared_components",
    "environment_components",
    "merge_aliases",
    "parse_osv",
    "read_feed",
    "run",
    "shown_location",
]
