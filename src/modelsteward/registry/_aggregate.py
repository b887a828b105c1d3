"""Rows gathered into one JSON value inside a query, on SQLite and PostgreSQL alike.

A version's tags, aliases and approvals come back as JSON columns of the version's own row, so that one
lookup is one statement: on PostgreSQL every statement is a round trip, and a transaction around
several would be two more.
"""

from __future__ import annotations

from collections.abc import Callable
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


# Each element's SQL function on each database.
_FUNCTIONS = {
    (JSONList, "postgresql"): "json_agg",
    (JSONList, "sqlite"): "json_group_array",
    (JSONRow, "postgresql"): "json_build_array",
    (JSONRow, "sqlite"): "json_array",
}


def _as(function: str) -> Callable[..., str]:
    def compile_(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
        return f"{function}({compiler.process(element.clauses, **kw)})"

    return compile_


def _register() -> None:
    """Teach SQLAlchemy's compiler each element on each database (once, on import)."""
    for (element, dialect), function in _FUNCTIONS.items():
        compiles(element, dialect)(_as(function))


_register()


def items(value: list[Any] | None) -> list[Any]:
    """A :class:`JSONList` as read back: PostgreSQL aggregates no rows to NULL, SQLite to ``[]``."""
    return value or []


def moment(value: str) -> datetime:
    """A time taken into JSON, read back as an aware UTC datetime.

    PostgreSQL writes ``timestamptz`` in ISO 8601 with its offset; SQLite the stored UTC wall time.
    """
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
