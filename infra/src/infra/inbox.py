"""The inbox: which events a consumer has applied, recorded in the same transaction as the change.

Delivery is at least once; this is what makes applying an event exactly once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncConnection

from infra.schema import inbox

# Ids per INSERT ... RETURNING statement on SQLite: one parameter each, and the consumer and the
# time once, stay under its limit of 999 bound parameters (older builds).
_IDS_PER_STATEMENT = 997


async def first_delivery(conn: AsyncConnection, consumer: str, event_id: uuid.UUID) -> bool:
    """Records that consumer applies event_id; False if it already had (then apply nothing)."""
    # The batch's statement, a batch of one: ON CONFLICT DO NOTHING rather than a violation
    # caught, which on PostgreSQL would abort the caller's whole transaction.
    return bool(await first_deliveries(conn, consumer, (event_id,)))


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
        # One short statement whatever the batch: the ids travel as one array, and what comes
        # back is the ids recorded before (mostly none), not every id recorded now.
        result = await conn.exec_driver_sql(
            "WITH given AS (SELECT unnest(%b::UUID[]) AS event_id), "
            "recorded AS (INSERT INTO inbox (consumer, event_id, processed_at) "
            "SELECT %s, event_id, %s FROM given ON CONFLICT DO NOTHING RETURNING event_id) "
            "SELECT event_id FROM given WHERE event_id NOT IN (SELECT event_id FROM recorded)",
            (ids, consumer, now),
        )
        return set(ids).difference(_as_uuid(value) for (value,) in result)
    bind_id = inbox.c.event_id.type._cached_bind_processor(conn.dialect)
    bind_time = inbox.c.processed_at.type._cached_bind_processor(conn.dialect)
    processed_at = bind_time(now) if bind_time else now
    # What SQLite returns is the value stored (32 hex digits): read back by that, not parsed.
    by_stored = {bind_id(event_id) if bind_id else event_id: event_id for event_id in ids}
    stored = list(by_stored)
    new: set[uuid.UUID] = set()
    for start in range(0, len(stored), _IDS_PER_STATEMENT):
        chunk = stored[start : start + _IDS_PER_STATEMENT]
        # The consumer and the time bound once; WHERE true tells SQLite's parser that ON CONFLICT
        # is the upsert clause, not a join's.
        result = await conn.exec_driver_sql(
            "INSERT INTO inbox (consumer, event_id, processed_at) "
            f"SELECT ?, column1, ? FROM (VALUES {', '.join('(?)' for _ in chunk)}) WHERE true "
            "ON CONFLICT DO NOTHING RETURNING event_id",
            (consumer, processed_at, *chunk),
        )
        new.update(by_stored[value] for (value,) in result)
    return new


def _as_uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
