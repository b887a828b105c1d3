"""The schema: made by the migrations on an empty database, kept on reopening, reversible."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from modelsteward.registry import Registry, RegistryError
from modelsteward.registry._database import Database
from modelsteward.registry._migrate import SCRIPTS, alembic_config
from modelsteward.registry._schema import Base
from tests.registry._samples import register_sample

TABLES = {
    "models",
    "versions",
    "alias_history",
    "tags",
    "approvals",
    "evaluations",
    "components",
    "advisories",
    "advisory_packages",
    "vulnerabilities",
    "upstream",
    "alerts",
    "users",
    "tokens",
    "audit_log",
    "alembic_version",
}


def _head() -> str | None:
    return ScriptDirectory(str(SCRIPTS)).get_current_head()


def _revision(url: str) -> str | None:
    engine = create_engine(Database(url).url, poolclass=NullPool)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return revision


def test_open_migrates_an_empty_database_to_head(database_url: str) -> None:
    Registry.open(database_url).close()
    assert _revision(database_url) == _head() == "0005"
    engine = create_engine(Database(database_url).url, poolclass=NullPool)
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == TABLES
        # The migration builds exactly what the ORM classes describe: no drift between the two.
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


def test_reopening_keeps_the_schema_and_the_data(database_url: str) -> None:
    with Registry.open(database_url) as registry:
        register_sample(registry, "bert", b"weights")
    with Registry.open(database_url) as registry:
        assert registry.get("bert").number == 1
        assert [e.action for e in registry.audit()] == ["admit"]
    assert _revision(database_url) == _head()


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(database_url: str) -> None:
    Registry.open(database_url).close()
    database = Database(database_url)
    with database.locked_connection() as connection:
        command.downgrade(alembic_config(connection), "base")
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}
    database.dispose()
    with Registry.open(database_url) as registry:
        register_sample(registry, "bert", b"weights")
        assert registry.verify_audit().ok


def test_the_audit_log_refuses_update_and_delete(registry: Registry, database_url: str) -> None:
    register_sample(registry, "bert", b"weights")
    engine = create_engine(Database(database_url).url, poolclass=NullPool)
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.exec_driver_sql(statement)
    engine.dispose()
    assert registry.audit()[0].actor == "alice"


def test_sqlite_folders_are_made_and_the_journal_is_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "registry.db"
    Registry.open(f"sqlite:///{path}").close()
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("mysql://root@localhost/registry", "runs on SQLite or PostgreSQL, not mysql"),
        ("sqlite://", "needs a SQLite file"),
        (
            "postgresql://nobody@127.0.0.1:1/db",
            r"registry database postgresql(\+psycopg)?://nobody@127\.0\.0\.1:1/db",
        ),
    ],
)
def test_bad_database_urls_are_clear_errors(url: str, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        Registry.open(url)


def test_a_schema_newer_than_the_code_is_a_clear_error(database_url: str) -> None:
    Registry.open(database_url).close()
    engine = create_engine(Database(database_url).url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(RegistryError, match=r"9999.*is ModelSteward up to date"):
        Registry.open(database_url)
