"""The registry: models, immutable versions, lineage, aliases, tags, approvals, alerts, users and API
tokens, and an audit log.

SQLite by default, PostgreSQL by URL; the schema is kept current with Alembic migrations shipped
in ``migrations/``. See docs/registry.md.
"""

from modelsteward.registry._browse import Page, VersionSummary
from modelsteward.registry._refs import model_name as valid_model_name
from modelsteward.registry._service import Registry
from modelsteward.registry._values import (
    AdvisorySync,
    AffectedVersion,
    Alert,
    AlertState,
    Approval,
    AuditEntry,
    AuditProblem,
    AuditReport,
    ComponentUse,
    Description,
    EvaluationRecord,
    IssuedToken,
    ModelSummary,
    Registration,
    RegistryError,
    RegistryInputError,
    Role,
    StoredAdvisory,
    Tamper,
    TokenInfo,
    UpstreamRecord,
    User,
    VersionDiff,
    VersionInfo,
    VulnerabilityChanges,
)

__all__ = [
    "AdvisorySync",
    "AffectedVersion",
    "Alert",
    "AlertState",
    "Approval",
    "AuditEntry",
    "AuditProblem",
    "AuditReport",
    "ComponentUse",
    "Description",
    "EvaluationRecord",
    "IssuedToken",
    "ModelSummary",
    "Page",
    "Registration",
    "Registry",
    "RegistryError",
    "RegistryInputError",
    "Role",
    "StoredAdvisory",
    "Tamper",
    "TokenInfo",
    "UpstreamRecord",
    "User",
    "VersionDiff",
    "VersionInfo",
    "VersionSummary",
    "VulnerabilityChanges",
    "valid_model_name",
]
