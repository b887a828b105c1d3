"""Evaluations of registered versions on the enterprise's data, made after their admission.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the evaluations table."""
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(50), nullable=False),
        sa.Column("dataset_digest", sa.String(71), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evaluations"),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], name="fk_evaluations_version_id_versions"),
    )
    op.create_index("ix_evaluations_version_id", "evaluations", ["version_id"])


def downgrade() -> None:
    """Drop the evaluations table."""
    op.drop_index("ix_evaluations_version_id", "evaluations")
    op.drop_table("evaluations")
