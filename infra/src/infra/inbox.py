"""The inbox: which events a consumer has applied, recorded in the same transaction as the change.

Delivery is at least once; this is what makes applying an event exactly once.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from infra.schema import inbox


async def first_delivery(conn: AsyncConnection, consumer: str, event_id: uuid.UUID) -> bool:
    """Records that consumer applies event_id; False if it already had (then apply nothing)."""
    values = {"consumer": consumer, "event_id": event_id, "processed_at": dt.datetime.now(dt.UTC)}
    # ON CONFLICT DO NOTHING rather than catching the violation: on PostgreSQL a failed insert
    # would abort the caller's whole transaction.
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(inbox).values(**values).on_conflict_do_nothing()
    inserted = await conn.execute(statement.returning(inbox.c.event_id))
    return inserted.first() is not None
