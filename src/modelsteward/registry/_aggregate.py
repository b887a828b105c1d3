"""Rows gathered into one JSON value inside a query, on SQLite and PostgreSQL alike.

A version's tags, aliases and approvals come back as JSON columns of the version's own row, so that one
lookup is one statement: on PostgreSQL every statement is a round trip, and a transaction around
several would be two more.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class JSONList(FunctionElement[Any]):
    """Aggregate: a JSON array of the expression's value on each row (no rows: an empty list or NULL,
    read with :func:`items`)."""

    type = JSON()
    inherit_cache = True


class JSONRow(FunctionElement[Any]):
    """A JSON array of the arguments: several columns as one value of a :class:`JSONList`."""

    type = JSON()
    inherit_cache = True


@compiles(JSONList, "postgresql")
def _json_list_postgresql(element: JSONList, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg({compiler.process(element.clauses, **kw)})"


@compiles(JSONList, "sqlite")
def _json_list_sqlite(element: JSONList, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array({compiler.process(element.clauses, **kw)})"


@compiles(JSONRow, "postgresql")
def _json_row_postgresql(element: JSONRow, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_build_array({compiler.process(element.clauses, **kw)})"


@compiles(JSONRow, "sqlite")
def _json_row_sqlite(element: JSONRow, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_array({compiler.process(element.clauses, **kw)})"


def items(value: list[Any] | None) -> list[Any]:
    """A :class:`JSONList` as read back: PostgreSQL aggregates no rows to NULL, SQLite to ``[]``."""
    return value or []


def moment(value: str) -> datetime:
    """A time taken into JSON, read back as an aware UTC datetime.

    PostgreSQL writes ``timestamptz`` in ISO 8601 with its offset; SQLite the stored UTC wall time.
    """
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
