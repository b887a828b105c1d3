"""Shared fixtures: scan bytes as a file, a canary that must never fire, and both databases.

``database_url`` runs a test on SQLite and on PostgreSQL. PostgreSQL is the server
``STEWARD_TEST_POSTGRES`` names (scripts/postgres.sh starts one); the session makes one database
there and each test a schema in it, all dropped afterwards.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from modelsteward.checks.security import FileReport, ScanOptions
from modelsteward.checks.security._scan import scan_file
from modelsteward.cli.main import main
from modelsteward.core.rules import load_catalogue

ScanBytes = Callable[..., FileReport]


@dataclass(frozen=True)
class Result:
    """What one ``steward`` command returned and printed."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        """The JSON the command printed, after checking that it succeeded."""
        assert self.exit_code == 0, self.stderr
        return json.loads(self.stdout)


Steward = Callable[..., Result]


@pytest.fixture
def steward(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Steward:
    """Run ``steward ARGS...`` in-process, on a wide terminal, and capture what it prints."""
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> Result:
        try:
            code = main(list(args))
        except SystemExit as exit_:  # --help and --version
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def scan_bytes(tmp_path: Path) -> ScanBytes:
    """Write ``data`` to a file named ``name`` and scan it."""
    catalogue = load_catalogue()

    def run(data: bytes, name: str = "model.bin", options: ScanOptions | None = None) -> FileReport:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return scan_file(path, name, options or ScanOptions(), catalogue)

    return run


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A path that a payload would create if it ever ran; tests assert it never exists."""
    return tmp_path / "canary" / "fired"


POSTGRES_ENV = "STEWARD_TEST_POSTGRES"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """A new database on the PostgreSQL server, for this test session; dropped at its end."""
    server = make_url(os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES))
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"steward_test_{uuid.uuid4().hex[:16]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as error:
        pytest.fail(
            f"PostgreSQL at {server.render_as_string()} is unreachable ({error.orig}); run "
            f"scripts/postgres.sh or set {POSTGRES_ENV} to a server URL",
            pytrace=False,
        )
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            # FORCE: a process a test killed may hold a session the server has not reaped yet.
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh schema in the PostgreSQL test database.

    A schema per test, not a database: creating and dropping a database costs a second or more.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    database: URL = request.getfixturevalue("postgres_database")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(database, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield database.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
