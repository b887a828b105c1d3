"""Dependencies and the watch: components of versions, the advisory database, vulnerabilities found,
the upstream state last seen, and the source each version was asked for.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables and add ``versions.upstream``."""
    with op.batch_alter_table("versions") as versions:
        versions.add_column(sa.Column("upstream", sa.Text(), nullable=True))
    op.create_table(
        "components",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=True),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("specifier", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_components"),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], name="fk_components_version_id_versions"),
    )
    op.create_index("ix_components_version_id", "components", ["version_id"])
    op.create_index("ix_components_name", "components", ["name"])
    op.create_table(
        "advisories",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("synced", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_advisories"),
    )
    op.create_table(
        "advisory_packages",
        sa.Column("advisory_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("advisory_id", "name", name="pk_advisory_packages"),
        sa.ForeignKeyConstraint(
            ["advisory_id"], ["advisories.id"], name="fk_advisory_packages_advisory_id_advisories"
        ),
    )
    op.create_index("ix_advisory_packages_name", "advisory_packages", ["name"])
    op.create_table(
        "vulnerabilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("advisory_id", sa.String(100), nullable=False),
        sa.Column("component", sa.String(200), nullable=False),
        sa.Column("component_version", sa.String(100), nullable=False),
        sa.Column("ids", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("found", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_vulnerabilities"),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name="fk_vulnerabilities_version_id_versions"
        ),
    )
    op.create_index("ix_vulnerabilities_version_id", "vulnerabilities", ["version_id"])
    op.create_index("ix_vulnerabilities_component", "vulnerabilities", ["component"])
    op.create_table(
        "upstream",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("checked", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model_id", name="pk_upstream"),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name="fk_upstream_model_id_models"),
    )


def downgrade() -> None:
    """Drop what :func:`upgrade` made."""
    op.drop_table("upstream")
    op.drop_index("ix_vulnerabilities_component", "vulnerabilities")
    op.drop_index("ix_vulnerabilities_version_id", "vulnerabilities")
    op.drop_table("vulnerabilities")
    op.drop_index("ix_advisory_packages_name", "advisory_packages")
    op.drop_table("advisory_packages")
    op.drop_table("advisories")
    op.drop_index("ix_components_name", "components")
    op.drop_index("ix_components_version_id", "components")
    op.drop_table("components")
    with op.batch_alter_table("versions") as versions:
        versions.drop_column("upstream")
