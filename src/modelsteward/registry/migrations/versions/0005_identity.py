"""Identity: users with roles, API tokens, who submitted each version, and rejections.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_models = sa.table("models", sa.column("id", sa.Integer()), sa.column("name", sa.String()))
_versions = sa.table(
    "versions",
    sa.column("id", sa.Integer()),
    sa.column("model_id", sa.Integer()),
    sa.column("number", sa.Integer()),
    sa.column("submitted_by", sa.String()),
)
_audit = sa.table(
    "audit_log",
    sa.column("seq", sa.Integer()),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("subject", sa.String()),
)


def upgrade() -> None:
    """Create ``users`` and ``tokens``; add ``versions.submitted_by`` and ``approvals.decision``.

    Each existing version's submitter is the actor of its ``admit`` audit entry: separation of duties
    holds for versions registered before this revision too.
    """
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_tokens_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_tokens"),
        sa.UniqueConstraint("digest", name="uq_tokens_digest"),
    )
    op.create_index("ix_tokens_user_id", "tokens", ["user_id"])
    # A server default lets the NOT NULL columns be added to tables that already hold rows, on
    # SQLite too, without rebuilding tables that others refer to.
    op.add_column("versions", sa.Column("submitted_by", sa.String(200), nullable=False, server_default=""))
    op.add_column("approvals", sa.Column("decision", sa.String(16), nullable=False, server_default="approve"))
    _backfill_submitters()


def _backfill_submitters() -> None:
    connection = op.get_bind()
    ids = {
        f"{name}@{number}": version_id
        for version_id, name, number in connection.execute(
            sa.select(_versions.c.id, _models.c.name, _versions.c.number).join(
                _models, _models.c.id == _versions.c.model_id
            )
        )
    }
    submitters: dict[int, str] = {}
    admissions = sa.select(_audit.c.subject, _audit.c.actor).where(_audit.c.action == "admit")
    # The first admission is the submission; later entries of the same subject cannot exist, but
    # order by sequence all the same so that the earliest wins.
    for subject, actor in connection.execute(admissions.order_by(_audit.c.seq)):
        version_id = ids.get(subject)
        if version_id is not None:
            submitters.setdefault(version_id, actor)
    for version_id, actor in submitters.items():
        connection.execute(
            sa.update(_versions).where(_versions.c.id == version_id).values(submitted_by=actor)
        )


def downgrade() -> None:
    """Drop what :func:`upgrade` made."""
    # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild would drop ``versions``, which other
    # tables' rows refer to, and SQLite's enforced foreign keys refuse that once it holds versions.
    op.drop_column("approvals", "decision")
    op.drop_column("versions", "submitted_by")
    op.drop_index("ix_tokens_user_id", "tokens")
    op.drop_table("tokens")
    op.drop_table("users")
