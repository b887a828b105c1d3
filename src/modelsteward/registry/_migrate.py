"""Bring a registry database's schema to the newest revision with Alembic, from code: no alembic.ini."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

SCRIPTS = Path(__file__).with_name("migrations")
"""The migration scripts, shipped inside the package."""

# Alembic keeps the running migration's context in module globals (``alembic.context``): two threads
# opening registries at once (the server's jobs) would trample each other's. The database lock only
# orders processes and connections, not this.
_ALEMBIC = threading.Lock()


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration that runs the registry's migrations on ``connection``."""
    config = Config()
    # The value is interpolated by configparser: a % in the install path must be doubled.
    config.set_main_option("script_location", str(SCRIPTS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection) -> None:
    """Create or upgrade the schema to head; the caller holds the write lock, so concurrent opens queue."""
    with _ALEMBIC:
        command.upgrade(alembic_config(connection), "head")
