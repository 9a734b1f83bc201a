"""The event store on SQLAlchemy: SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from infra.db import Database
from infra.eventstore.model import (
    ConcurrencyError,
    EventMetadata,
    RecordedEvent,
    StreamAppend,
    Translator,
)
from infra.schema import events, outbox


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SqlEventStore:
    """Append-only; a unique (stream_id, version) makes concurrent appenders fail, never mix."""

    def __init__(self, db: Database, *, now: Callable[[], dt.datetime] = _utcnow) -> None:
        self._db = db
        self._now = now

    async def read(self, stream_id: str, *, after_version: int = 0) -> list[RecordedEvent]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(events)
                .where(events.c.stream_id == stream_id, events.c.version > after_version)
                .order_by(events.c.version)
            )
            return [recorded_row(row) for row in rows]

    async def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(events)
                .where(events.c.position > after_position)
                .order_by(events.c.position)
                .limit(limit)
            )
            return [recorded_row(row) for row in rows]

    async def append(
        self,
        appends: Sequence[StreamAppend],
        metadata: EventMetadata,
        *,
        outbox: Translator | None = None,
        conn: AsyncConnection | None = None,
    ) -> list[RecordedEvent]:
        if conn is not None:
            # A savepoint: on PostgreSQL a violated constraint would abort the caller's whole
            # transaction, which must stay usable (the caller decides again, or gives up).
            async with conn.begin_nested():
                return await self._append(conn, appends, metadata, outbox)
        async with self._db.transaction() as own:
            return await self._append(own, appends, metadata, outbox)

    async def _append(
        self,
        conn: AsyncConnection,
        appends: Sequence[StreamAppend],
        metadata: EventMetadata,
        translate: Translator | None,
    ) -> list[RecordedEvent]:
        rows = event_rows(appends, metadata, self._now())
        if not rows:
            return []
        try:
            result = await conn.execute(
                insert(events).returning(events.c.position, sort_by_parameter_order=True), rows
            )
        except IntegrityError as exc:
            # Another writer recorded a (stream, version) we meant to: a stream moved.
            first = appends[0]
            raise ConcurrencyError(first.stream_id, first.expected_version, None) from exc
        positions = [row.position for row in result]
        recorded = [
            recorded_from(row, position) for row, position in zip(rows, positions, strict=True)
        ]
        if translate is not None:
            await enqueue(conn, recorded, translate, now=rows[0]["recorded_at"])
        return recorded


def event_rows(
    appends: Sequence[StreamAppend], metadata: EventMetadata, recorded_at: dt.datetime
) -> list[dict[str, Any]]:
    """The rows of the events table for some appends, numbered from each expected version."""
    meta = metadata.to_dict()
    return [
        {
            "event_id": new.event_id,
            "stream_id": append.stream_id,
            "version": append.expected_version + offset,
            "type": new.type,
            "schema_version": new.schema_version,
            "occurred_at": new.occurred_at,
            "recorded_at": recorded_at,
            "data": new.data,
            "metadata": meta,
        }
        for append in appends
        for offset, new in enumerate(append.events, start=1)
    ]


def outbox_rows(
    recorded: Sequence[RecordedEvent], translate: Translator, now: dt.datetime
) -> list[dict[str, Any]]:
    """The outbox rows for recorded events (those the translator publishes)."""
    rows = []
    for event in recorded:
        message = translate(event)
        if message is None:
            continue
        rows.append(
            {
                "event_id": message.event_id,
                "stream_id": event.stream_id,
                "topic": message.topic,
                "message_key": message.key,
                "ce_type": message.ce_type,
                "source": message.source,
                "subject": message.subject,
                "occurred_at": message.occurred_at,
                "data": message.data,
                "metadata": message.metadata.to_dict(),
                "created_at": now,
                "attempts": 0,
            }
        )
    return rows


async def enqueue(
    conn: AsyncConnection,
    recorded: Sequence[RecordedEvent],
    translate: Translator,
    *,
    now: dt.datetime,
) -> int:
    """Writes the outbox rows for recorded events (those the translator publishes)."""
    rows = outbox_rows(recorded, translate, now)
    if rows:
        await conn.execute(insert(outbox), rows)
    return len(rows)


def recorded_row(row: Row[Any]) -> RecordedEvent:
    return RecordedEvent(
        event_id=row.event_id,
        stream_id=row.stream_id,
        version=row.version,
        type=row.type,
        schema_version=row.schema_version,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        data=row.data,
        metadata=EventMetadata.from_dict(row.metadata),
        position=row.position,
    )


def recorded_from(row: dict[str, Any], position: int) -> RecordedEvent:
    return RecordedEvent(
        event_id=row["event_id"],
        stream_id=row["stream_id"],
        version=row["version"],
        type=row["type"],
        schema_version=row["schema_version"],
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        data=row["data"],
        metadata=EventMetadata.from_dict(row["metadata"]),
        position=position,
    )
