"""Many rows into one table in one statement execution: how a consumer applies a batch of events.

SQLAlchemy's executemany builds and checks every row through its statement machinery, which
costs more than the database spends storing it. Here the statement is compiled once per table
and backend, each value goes through its column type's own bind processor (the same conversion
SQLAlchemy applies: JSON, dates on SQLite, aware UTC timestamps...), and the rows go to the
driver's executemany (psycopg sends them in one pipeline). Rows are inserted in the order given,
so when two rows share a key the first one stays, as if they had been inserted one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    processors: tuple[_Processor, ...]


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
            marker = "?" if dialect.paramstyle == "qmark" else "%s"
            quote = dialect.identifier_preparer.quote
            compiled = _Compiled(
                sql=(
                    f"INSERT INTO {quote(self.table.name)} "
                    f"({', '.join(quote(name) for name in self.columns)}) "
                    f"VALUES ({', '.join(marker for _ in self.columns)}) "
                    "ON CONFLICT DO NOTHING"
                ),
                processors=tuple(
                    self.table.c[name].type._cached_bind_processor(dialect) for name in self.columns
                ),
            )
            self._compiled[dialect.name] = compiled
        return compiled

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
        await conn.exec_driver_sql(compiled.sql, [self.bind(conn.dialect, row) for row in rows])
