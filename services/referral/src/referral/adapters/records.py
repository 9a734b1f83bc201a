"""The referrals' index in SQL, beside their streams in the event store.

Why an index, rather than reading the whole log (`EventStore.read_all`) on every tick: the clock
runs every minute for the life of the service, and the log only grows, so a scan would cost more
each day to find the few referrals that are late. The index holds one row per referral (site,
status, when it was raised, and the next deadline still pending), written in the same transaction
as the referral's events, so it is never behind them; the clock reads only the rows whose
deadline has passed (`due`), and ListReferrals reads a site's rows by status. It is derived
entirely from the events: the migration that creates it fills it from the log, and dropping it
and migrating again rebuilds it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    MetaData,
    String,
    Table,
    select,
)

from infra.commands import IndexRow
from infra.db import Database, Migration, UtcDateTime
from infra.ddd import DomainEvent
from infra.schema import events as event_log
from referral.domain import EVENT_TYPES, ReferralState, fold, next_due_at
from referral.domain.values import ReferralStatus

metadata = MetaData()

referral_index = Table(
    "referral_index",
    metadata,
    Column("referral_id", String(64), primary_key=True),
    Column("site_id", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    # The earliest service-level deadline not yet met nor breached; NULL: nothing to watch.
    Column("next_due_at", UtcDateTime),
    Index("ix_referral_index_site_status", "site_id", "status", "raised_at"),
    Index("ix_referral_index_next_due_at", "next_due_at"),
)


def _row(state: ReferralState) -> dict[str, Any]:
    assert state.referral is not None
    return {
        "referral_id": state.referral.referral_id,
        "site_id": state.referral.site_id,
        "status": state.status,
        "raised_at": state.referral.clock_starts_at,
        "next_due_at": next_due_at(state),
    }


def _create_index(conn: Connection) -> None:
    """Creates the index and fills it from the referrals already in the log."""
    metadata.create_all(conn, tables=[referral_index])
    streams: defaultdict[str, list[DomainEvent]] = defaultdict(list)
    rows = conn.execute(
        select(event_log.c.stream_id, event_log.c.type, event_log.c.data)
        .where(event_log.c.stream_id.like("referral-%"))
        .order_by(event_log.c.position)
    )
    for row in rows:
        streams[row.stream_id].append(EVENT_TYPES.load(row.type, row.data))
    states = [fold(events) for events in streams.values()]
    filled = [_row(state) for state in states if state.referral is not None]
    if filled:
        conn.execute(referral_index.insert(), filled)


MIGRATIONS = (
    Migration(
        "referral",
        1,
        "referral index: site, status and the next service-level deadline of each referral",
        _create_index,
    ),
)


class SqlReferralIndex:
    """ReferralIndex on the service's database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def row(self, state: ReferralState) -> IndexRow:
        return IndexRow(referral_index, _row(state), "upsert")

    async def due(self, now: dt.datetime, limit: int) -> list[str]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(referral_index.c.referral_id)
                .where(referral_index.c.next_due_at < now)
                .order_by(referral_index.c.next_due_at, referral_index.c.referral_id)
                .limit(limit)
            )
            return [row.referral_id for row in rows]

    async def listed(self, site_id: str, status: ReferralStatus | None, limit: int) -> list[str]:
        query = select(referral_index.c.referral_id).where(referral_index.c.site_id == site_id)
        if status is not None:
            query = query.where(referral_index.c.status == status)
        async with self._db.read() as conn:
            rows = await conn.execute(
                query.order_by(referral_index.c.raised_at, referral_index.c.referral_id).limit(
                    limit
                )
            )
            return [row.referral_id for row in rows]
