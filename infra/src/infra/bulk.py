"""Many rows into one table in one statement execution: how a consumer applies a batch of events.

SQLAlchemy's executemany builds and checks every row through its statement machinery, which
costs more than the database spends storing it. Here the statement is compiled once per table
and backend, and each value goes through its column type's own bind processor (the same
conversion SQLAlchemy applies: JSON, dates on SQLite, aware UTC timestamps...). On SQLite the
rows go to the driver's executemany; on PostgreSQL each column travels as one binary array and
the rows are inserted from `unnest` in one statement, which costs the client a fraction of a
pipelined executemany. Rows are inserted in the order given, so when two rows share a key the
first one stays, as if they had been inserted one by one.

The values are converted column by column, only in the columns whose type converts, and a value
that recurs in one call is converted once: the time an event was recorded is on each of its
rows, a day on many sessions, the same list of techniques on most.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Date, String, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from infra.db import UtcDateTime

Key = Callable[[Any], Any]
"""What a value is known by among the values of one column in one call, so that it is converted
once: values with the same key convert alike. None for a value to convert on its own."""


@dataclass(frozen=True, slots=True)
class _Conversion:
    """A column whose values the driver does not take as they are."""

    position: int
    convert: Callable[[Any], Any]
    key: Key | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    conversions: tuple[_Conversion, ...]
    # PostgreSQL: the rows go column by column, one array each.
    by_column: bool


def _date_key(value: Any) -> Any:
    return value if type(value) is dt.date else None


def _instant_key(value: Any) -> Any:
    # An aware timestamp is stored in UTC: equal instants are stored alike whatever their offset.
    return value if type(value) is dt.datetime and value.tzinfo is not None else None


_TEXT: frozenset[type] = frozenset({str})


def _texts_key(value: Any) -> Any:
    # A list of strings (ids, techniques): equal lists are the same JSON.
    return tuple(value) if type(value) is list and set(map(type, value)) <= _TEXT else None


def _key_of(column_type: TypeEngine[Any]) -> Key | None:
    if isinstance(column_type, UtcDateTime):
        return _instant_key
    if isinstance(column_type, Date):
        return _date_key
    if isinstance(column_type, JSON):
        return _texts_key
    return None


class InsertOnce:
    """INSERT ... ON CONFLICT DO NOTHING of rows into one table: a row whose key is taken adds
    nothing. Each row maps every one of `columns` (all the table's by default) to its value."""

    def __init__(self, table: Table, columns: Sequence[str] | None = None) -> None:
        self.table = table
        self.columns = tuple(columns or (c.name for c in table.columns))
        unknown = [name for name in self.columns if name not in table.c]
        if unknown:
            raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
        names = self.columns
        # A row's values in column order, read in one call.
        self._values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = (
            itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        )
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = (
                self._unnest(dialect) if dialect.name == "postgresql" else self._rows(dialect)
            )
            self._compiled[dialect.name] = compiled
        return compiled

    def _conversion(self, n: int, process: Any) -> list[_Conversion]:
        if process is None:
            return []
        return [_Conversion(n, process, _key_of(self.table.c[self.columns[n]].type))]

    def _rows(self, dialect: Dialect) -> _Compiled:
        quote = dialect.identifier_preparer.quote
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        conversions: list[_Conversion] = []
        for n, name in enumerate(self.columns):
            conversions += self._conversion(
                n, self.table.c[name].type._cached_bind_processor(dialect)
            )
        return _Compiled(
            sql=(
                f"INSERT INTO {quote(self.table.name)} "
                f"({', '.join(quote(name) for name in self.columns)}) "
                f"VALUES ({', '.join(marker for _ in self.columns)}) "
                "ON CONFLICT DO NOTHING"
            ),
            conversions=tuple(conversions),
            by_column=False,
        )

    def _unnest(self, dialect: Dialect) -> _Compiled:
        quote = dialect.identifier_preparer.quote
        arrays: list[str] = []
        selected: list[str] = []
        conversions: list[_Conversion] = []
        for n, name in enumerate(self.columns):
            column_type = self.table.c[name].type
            if isinstance(column_type, JSON):
                # Sent as text and read as JSON: an array of psycopg's JSON wrappers would not dump.
                arrays.append("%b::TEXT[]")
                selected.append(f"c{n}::JSON")
                conversions += self._conversion(n, json.dumps)
            else:
                arrays.append(f"%b::{_unbounded(column_type).compile(dialect=dialect)}[]")
                selected.append(f"c{n}")
                conversions += self._conversion(n, column_type._cached_bind_processor(dialect))
        aliases = ", ".join(f"c{n}" for n in range(len(self.columns)))
        return _Compiled(
            sql=(
                f"INSERT INTO {quote(self.table.name)} "
                f"({', '.join(quote(name) for name in self.columns)}) "
                f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS u({aliases}) "
                "ON CONFLICT DO NOTHING"
            ),
            conversions=tuple(conversions),
            by_column=True,
        )

    def columns_of(self, dialect: Dialect, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
        """The rows' values as the driver receives them, one list per column."""
        compiled = self._for(dialect)
        if not rows:
            return [[] for _ in self.columns]
        columns = [list(values) for values in zip(*map(self._values, rows), strict=True)]
        for conversion in compiled.conversions:
            _convert(columns[conversion.position], conversion)
        return columns

    async def __call__(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        compiled = self._for(conn.dialect)
        columns = self.columns_of(conn.dialect, rows)
        if compiled.by_column:
            await conn.exec_driver_sql(compiled.sql, tuple(columns))
        else:
            await conn.exec_driver_sql(compiled.sql, list(zip(*columns, strict=True)))


def _convert(values: list[Any], conversion: _Conversion) -> None:
    """Converts a column's values in place; None stays None (SQL NULL)."""
    convert, key_of = conversion.convert, conversion.key
    if key_of is None:
        for n, value in enumerate(values):
            if value is not None:
                values[n] = convert(value)
        return
    converted: dict[Any, Any] = {}
    for n, value in enumerate(values):
        if value is None:
            continue
        key = key_of(value)
        if key is None:
            values[n] = convert(value)
        elif (stored := converted.get(key)) is not None:
            values[n] = stored
        else:
            values[n] = converted[key] = convert(value)


def _unbounded(column_type: TypeEngine[Any]) -> TypeEngine[Any]:
    """The type an array of a column's values is sent as: a string type without its length,
    since a cast to VARCHAR(n) cuts a longer value short without a word, where the insert into
    the column refuses it."""
    if isinstance(column_type, String) and column_type.length is not None:
        return String()
    return column_type
