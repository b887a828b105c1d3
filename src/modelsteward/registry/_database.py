"""The connection to the registry's database: one writer at a time, on SQLite and on PostgreSQL alike.

Every change takes the registry's write lock first, for the whole transaction: on PostgreSQL a
transaction-level advisory lock, on SQLite ``BEGIN IMMEDIATE``. Version numbers and the audit chain
are then computed from what is committed, so concurrent writers queue rather than collide; the
unique constraints stay as a second line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from modelsteward.registry._values import RegistryError

# Seconds a SQLite writer waits for another before giving up ("database is locked").
_BUSY_TIMEOUT = 60.0
# The advisory lock every registry writer takes on PostgreSQL: "modelstw" as a 64-bit integer.
_LOCK_KEY = 0x6D6F64656C737477
# Marks the connections of write transactions, so that only they begin IMMEDIATE on SQLite.
_WRITE = "modelsteward_write"


class Database:
    """An engine for one registry database, handing out read and write sessions."""

    def __init__(self, url: str) -> None:
        self.url = _parse(url)
        self.shown = self.url.render_as_string(hide_password=True)
        """The URL without its password, for messages."""
        self.engine = _engine(self.url)
        self._writer = self.engine.execution_options(**{_WRITE: True})
        reads = {"isolation_level": "REPEATABLE READ"} if self.is_postgresql else {}
        # One snapshot per read, so that what its several statements read agrees.
        self._reader = self.engine.execution_options(**reads)
        # A pool of its own, in autocommit, rather than switching pooled connections in and out of it:
        # on PostgreSQL that switching costs about as much as the lean reads themselves.
        self._statements = _engine(self.url, autocommit=True) if self.is_postgresql else self.engine

    @property
    def is_postgresql(self) -> bool:
        """Whether the database is PostgreSQL (else SQLite)."""
        return self.url.get_backend_name() == "postgresql"

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session in one transaction holding the write lock; committed on leaving, rolled back on error."""
        with self._errors(), Session(self._writer, expire_on_commit=False) as session, session.begin():
            if self.is_postgresql:
                session.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session in one read-only snapshot."""
        with self._errors(), Session(self._reader) as session, session.begin():
            yield session

    @contextmanager
    def statement(self) -> Iterator[Connection]:
        """A connection for a read of one statement, which is its own snapshot: on PostgreSQL it runs
        outside any transaction, which saves the two round trips of opening and closing one."""
        with self._errors(), self._statements.connect() as connection:
            yield connection

    @contextmanager
    def locked_connection(self) -> Iterator[Connection]:
        """A connection in one transaction holding the write lock (for schema migrations)."""
        with self._errors(), self._writer.begin() as connection:
            if self.is_postgresql:
                connection.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
            yield connection

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        self._statements.dispose()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as error:
            raise RegistryError(f"registry database {self.shown}: {error.orig}") from None


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise RegistryError(f"not a database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        # psycopg 3 is the driver ModelSteward installs; a plain postgresql:// URL means it.
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise RegistryError(f"{url}: the registry needs a SQLite file, not an in-memory database")
        return parsed
    if backend != "postgresql":
        raise RegistryError(f"{url}: the registry runs on SQLite or PostgreSQL, not {backend}")
    return parsed


def _engine(url: URL, *, autocommit: bool = False) -> Engine:
    if url.get_backend_name() == "postgresql":
        return create_engine(url, **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}))
    folder = Path(str(url.database)).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RegistryError(f"cannot make the registry's folder {folder}: {error.strerror}") from None
    engine = create_engine(url, connect_args={"timeout": _BUSY_TIMEOUT})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(connection: Any, _record: object) -> None:
    # The driver's own transaction handling is turned off so that _sqlite_begin chooses how to begin.
    connection.isolation_level = None
    cursor = connection.cursor()
    # WAL: readers never wait for the writer, and a killed writer's uncommitted pages are ignored.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    mode = "IMMEDIATE" if connection.get_execution_options().get(_WRITE) else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")
