"""Many rows into one table in one statement execution: how a consumer applies a batch of events.

SQLAlchemy's executemany builds and checks every row through its statement machinery, which
costs more than the database spends storing it. Here the statement is compiled once per table
and backend, and each value goes through its column type's own bind processor (the same
conversion SQLAlchemy applies: JSON, dates on SQLite, aware UTC timestamps...). On SQLite the
rows go to the driver's executemany; on PostgreSQL each column travels as one binary array and
the rows are inserted from `unnest` in one statement, which costs the client a fraction of a
pipelined executemany. Rows are inserted in the order given, so when two rows share a key the
first one stays, as if they had been inserted one by one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    processors: tuple[_Processor, ...]
    # PostgreSQL: the rows go column by column, one array each.
    by_column: bool


class InsertOnce:
    """INSERT ... ON CONFLICT DO NOTHING of rows into one table: a row whose key is taken adds
    nothing. Each row maps every one of `columns` (all the table's by default) to its value."""

    def __init__(self, table: Table, columns: Sequence[str] | None = None) -> None:
        self.table = table
        self.columns = tuple(columns or (c.name for c in table.columns))
        unknown = [name for name in self.columns if name not in table.c]
        if unknown:
            raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = (
                self._unnest(dialect) if dialect.name == "postgresql" else self._rows(dialect)
            )
            self._compiled[dialect.name] = compiled
        return compiled

    def _rows(self, dialect: Dialect) -> _Compiled:
        quote = dialect.identifier_preparer.quote
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        return _Compiled(
            sql=(
                f"INSERT INTO {quote(self.table.name)} "
                f"({', '.join(quote(name) for name in self.columns)}) "
                f"VALUES ({', '.join(marker for _ in self.columns)}) "
                "ON CONFLICT DO NOTHING"
            ),
            processors=tuple(
                self.table.c[name].type._cached_bind_processor(dialect) for name in self.columns
            ),
            by_column=False,
        )

    def _unnest(self, dialect: Dialect) -> _Compiled:
        quote = dialect.identifier_preparer.quote
        arrays: list[str] = []
        selected: list[str] = []
        processors: list[_Processor] = []
        for n, name in enumerate(self.columns):
            column_type = self.table.c[name].type
            if isinstance(column_type, JSON):
                # Sent as text and read as JSON: an array of psycopg's JSON wrappers would not dump.
                arrays.append("%b::TEXT[]")
                selected.append(f"c{n}::JSON")
                processors.append(json.dumps)
            else:
                arrays.append(f"%b::{column_type.compile(dialect=dialect)}[]")
                selected.append(f"c{n}")
                processors.append(column_type._cached_bind_processor(dialect))
        aliases = ", ".join(f"c{n}" for n in range(len(self.columns)))
        return _Compiled(
            sql=(
                f"INSERT INTO {quote(self.table.name)} "
                f"({', '.join(quote(name) for name in self.columns)}) "
                f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS u({aliases}) "
                "ON CONFLICT DO NOTHING"
            ),
            processors=tuple(processors),
            by_column=True,
        )

    def bind(self, dialect: Dialect, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """One row's values as the driver receives them."""
        processors = self._for(dialect).processors
        return tuple(
            None if (value := row[name]) is None else (process(value) if process else value)
            for name, process in zip(self.columns, processors, strict=True)
        )

    async def __call__(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        compiled = self._for(conn.dialect)
        bound = [self.bind(conn.dialect, row) for row in rows]
        if compiled.by_column:
            await conn.exec_driver_sql(
                compiled.sql, tuple(list(column) for column in zip(*bound, strict=True))
            )
        else:
            await conn.exec_driver_sql(compiled.sql, bound)
