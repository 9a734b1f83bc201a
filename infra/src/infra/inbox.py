"""The inbox: which events a consumer has applied, recorded in the same transaction as the change.

Delivery is at least once; this is what makes applying an event exactly once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from infra.schema import inbox

# Rows per INSERT ... RETURNING statement on SQLite: 3 parameters a row stays under its limit
# of 999 bound parameters (older builds).
_ROWS_PER_STATEMENT = 300


async def first_delivery(conn: AsyncConnection, consumer: str, event_id: uuid.UUID) -> bool:
    """Records that consumer applies event_id; False if it already had (then apply nothing)."""
    values = {"consumer": consumer, "event_id": event_id, "processed_at": dt.datetime.now(dt.UTC)}
    # ON CONFLICT DO NOTHING rather than catching the violation: on PostgreSQL a failed insert
    # would abort the caller's whole transaction.
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(inbox).values(**values).on_conflict_do_nothing()
    inserted = await conn.execute(statement.returning(inbox.c.event_id))
    return inserted.first() is not None


async def first_deliveries(
    conn: AsyncConnection, consumer: str, event_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Records that consumer applies each of event_ids, and returns those it had not applied
    before (apply only these). An id given twice is a first delivery once at most."""
    ids = list(dict.fromkeys(event_ids))
    if not ids:
        return set()
    now = dt.datetime.now(dt.UTC)
    if conn.dialect.name == "postgresql":
        # One short statement whatever the batch: the ids travel as one array.
        result = await conn.exec_driver_sql(
            "INSERT INTO inbox (consumer, event_id, processed_at) "
            "SELECT %s, ids.event_id, %s FROM unnest(%b::UUID[]) AS ids(event_id) "
            "ON CONFLICT DO NOTHING RETURNING event_id",
            (consumer, now, ids),
        )
        return {uuid.UUID(str(value)) for (value,) in result}
    bind_id = inbox.c.event_id.type._cached_bind_processor(conn.dialect)
    bind_time = inbox.c.processed_at.type._cached_bind_processor(conn.dialect)
    processed_at = bind_time(now) if bind_time else now
    new: set[uuid.UUID] = set()
    for start in range(0, len(ids), _ROWS_PER_STATEMENT):
        chunk = ids[start : start + _ROWS_PER_STATEMENT]
        params: list[object] = []
        for event_id in chunk:
            params += (consumer, bind_id(event_id) if bind_id else event_id, processed_at)
        rows = ", ".join("(?, ?, ?)" for _ in chunk)
        result = await conn.exec_driver_sql(
            f"INSERT INTO inbox (consumer, event_id, processed_at) VALUES {rows} "
            "ON CONFLICT DO NOTHING RETURNING event_id",
            tuple(params),
        )
        # SQLite returns the stored text (32 hex digits).
        new.update(uuid.UUID(str(value)) for (value,) in result)
    return new
