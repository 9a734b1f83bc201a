"""Units of work committed in memory, for unit tests of use cases.

It passes the same contract tests as the SQL store (`infra/tests/commands`), so a use case tested
against it behaves the same against the real one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlalchemy.ext.asyncio import AsyncConnection

from infra.commands.model import (
    CommandRecord,
    Committed,
    IndexRow,
    Unit,
    Verdict,
    touched,
)
from infra.eventstore.memory import InMemoryEventStore, _utcnow
from infra.eventstore.model import RecordedEvent, Translator


class InMemoryUnitStore:
    def __init__(
        self,
        translate: Translator | None = None,
        *,
        events: InMemoryEventStore | None = None,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.events = events or InMemoryEventStore(now=now)
        self._translate = translate
        self._commands: dict[tuple[str, str], CommandRecord] = {}
        # By table name: its rows by primary key.
        self.tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self._lock = asyncio.Lock()

    async def read(
        self, stream_id: str, *, after_version: int = 0, within: AsyncConnection | None = None
    ) -> list[RecordedEvent]:
        return await self.events.read(stream_id, after_version=after_version)

    async def recorded(
        self, command_type: str, command_key: str, *, within: AsyncConnection | None = None
    ) -> CommandRecord | None:
        return self._commands.get((command_type, command_key))

    def rows(self, table_name: str) -> list[dict[str, Any]]:
        """The rows of an index table, in no particular order."""
        return list(self.tables.get(table_name, {}).values())

    async def commit(self, unit: Unit, *, within: AsyncConnection | None = None) -> Committed:
        async with self._lock:
            for check in unit.checks:
                if self.events.version(check.stream_id) != check.version:
                    return Committed(Verdict.CONFLICT, (check.stream_id,))
            for rows_check in unit.row_checks:
                if not rows_check.holds(self.rows(rows_check.table.name)):
                    return Committed(Verdict.CONFLICT, touched(unit))
            record = unit.record
            if record is not None and (record.command_type, record.command_key) in self._commands:
                return Committed(Verdict.DUPLICATE)
            for append in unit.appends:
                if (
                    append.events
                    and self.events.version(append.stream_id) != append.expected_version
                ):
                    return Committed(Verdict.CONFLICT, (append.stream_id,))
            staged = {name: dict(rows) for name, rows in self.tables.items()}
            for row in unit.rows:
                if not _apply(staged, row):
                    return Committed(Verdict.CONFLICT, touched(unit))
            appends = [append for append in unit.appends if append.events]
            if appends:
                await self.events.append(appends, unit.metadata, outbox=self._translate)
            self.tables = staged
            if record is not None:
                self._commands[(record.command_type, record.command_key)] = record
            return Committed(Verdict.COMMITTED)


def _apply(tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]], row: IndexRow) -> bool:
    """Writes the row as a database would; False when it clashes with a key."""
    rows = tables.setdefault(row.table.name, {})
    key = row.key()
    existing = rows.get(key)
    if row.mode == "update":
        if existing is not None:
            rows[key] = {**existing, **row.values}
        return True
    if existing is not None:
        if row.mode == "insert":
            return False
        merged = {**existing, **row.values}
    else:
        merged = dict(row.values)
    for constraint in row.table.constraints:
        if not isinstance(constraint, UniqueConstraint):
            continue
        names = [column.name for column in constraint.columns]
        values = [merged.get(name) for name in names]
        for other_key, other in rows.items():
            if other_key != key and [other.get(name) for name in names] == values:
                return False
    rows[key] = merged
    return True
