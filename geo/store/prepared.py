"""Statements compiled once for an engine and run on the driver's own cursor.

An article is written with a handful of small statements, and SQLAlchemy's work around each execute
(coercing, caching, building a result) costs more than SQLite's own. These are the same SQLAlchemy Core
statements, compiled once per engine, their values converted by the same type processors, so what
they store is what `conn.execute` would store; the driver caches its prepared statements by SQL text.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa


class Prepared:
    """One statement compiled for a dialect; values by bind-parameter name."""

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self._positional = compiled.positional
        names = list(compiled.positiontup) if compiled.positional else list(compiled.params)
        defaults = compiled.params   # values bound in the statement itself
        processors = compiled._bind_processors
        self._binds = [(name, defaults.get(name), processors.get(name)) for name in names]

    def _values(self, values: dict[str, Any]) -> tuple | dict:
        out = []
        for name, default, process in self._binds:
            value = values.get(name, default)
            out.append(process(value) if process is not None and value is not None else value)
        return tuple(out) if self._positional else dict(zip((b[0] for b in self._binds), out))

    def execute(self, conn: sa.Connection, values: dict[str, Any] | None = None) -> Any:
        """Run it in `conn`'s transaction; the driver's cursor."""
        cursor = conn.connection.dbapi_connection.cursor()
        params = self._values(values or {})
        with _as_sqlalchemy_error(conn, self.sql, params):
            cursor.execute(self.sql, params)
        return cursor

    def executemany(self, conn: sa.Connection, rows: Iterable[dict[str, Any]]) -> None:
        params = [self._values(row) for row in rows]
        if params:
            cursor = conn.connection.dbapi_connection.cursor()
            with _as_sqlalchemy_error(conn, self.sql, params):
                cursor.executemany(self.sql, params)
            cursor.close()

    def rows(self, conn: sa.Connection, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows it selects, each a dict by column name (values as the driver gives them)."""
        cursor = self.execute(conn, values)
        names = [d[0] for d in cursor.description]
        out = [dict(zip(names, row)) for row in cursor.fetchall()]
        cursor.close()
        return out


@contextmanager
def _as_sqlalchemy_error(conn: sa.Connection, sql: str, params: Any) -> Iterator[None]:
    """The driver's errors as SQLAlchemy raises them (a full disk, a read-only file: `sa.exc.OperationalError`),
    so the store says them in one line as it does every other."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, params, exc, dbapi.Error, hide_parameters=True,
                                         dialect=conn.dialect) from exc
