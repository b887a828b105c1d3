"""Alembic environment: runs on the connection the registry hands over (see ``_migrate.py``)."""

from __future__ import annotations

from alembic import context

from modelsteward.registry._schema import Base

context.configure(connection=context.config.attributes["connection"], target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
