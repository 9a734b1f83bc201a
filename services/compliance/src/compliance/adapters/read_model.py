"""The compliance read model: facts projected from other services' events, in SQL.

Every row keeps the id of the event it came from. The projection is rebuilt from scratch by
emptying these tables and the inbox and re-publishing the producers' logs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from compliance.domain import ReferralFact, SupervisionSessionFact
from contracts.events import ReferralRaised, SessionLogged
from infra.db import Database, Migration

metadata = MetaData()

supervision_sessions = Table(
    "supervision_sessions",
    metadata,
    Column("session_id", String(64), nullable=False),
    Column("supervisee_id", String(64), nullable=False),
    Column("date", Date, nullable=False),
    Column("format", String(20), nullable=False),
    Column("modality", String(20), nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("supervisor_id", String(64), nullable=False),
    Column("site_id", String(64), nullable=False),
    Column("source_event_id", String(36), nullable=False),
    PrimaryKeyConstraint("session_id", "supervisee_id"),
)

referrals = Table(
    "referrals",
    metadata,
    Column("referral_id", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("site_id", String(64), nullable=False, index=True),
    Column("to_service", String(20), nullable=False),
    Column("urgency", String(20), nullable=False),
    Column("raised_on", Date, nullable=False),
    Column("closed_on", Date),
    Column("source_event_ids", JSON, nullable=False),
)


def _create_read_model(conn: Connection) -> None:
    metadata.create_all(conn, tables=[supervision_sessions, referrals])


MIGRATIONS = (
    Migration("compliance", 1, "supervision sessions and referrals read model", _create_read_model),
)


def _insert(conn: AsyncConnection, table: Table) -> Any:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return insert(table)


async def project_session_logged(
    conn: AsyncConnection, event: SessionLogged, event_id: uuid.UUID
) -> None:
    """One row per supervisee: a group session counts for each person in it."""
    rows = [
        {
            "session_id": event.session_id,
            "supervisee_id": supervisee_id,
            "date": event.date,
            "format": event.format,
            "modality": event.modality,
            "minutes": event.minutes,
            "supervisor_id": event.supervisor_id,
            "site_id": event.site_id,
            "source_event_id": str(event_id),
        }
        for supervisee_id in event.supervisee_ids
    ]
    # The inbox already keeps a redelivered event out; a session re-logged under a new event
    # id (a producer's log re-published after it was rebuilt) must not count twice either.
    await conn.execute(_insert(conn, supervision_sessions).on_conflict_do_nothing(), rows)


async def project_referral_raised(
    conn: AsyncConnection, event: ReferralRaised, event_id: uuid.UUID
) -> None:
    await conn.execute(
        _insert(conn, referrals)
        .values(
            referral_id=event.referral_id,
            client_id=event.client_id,
            site_id=event.site_id,
            to_service=event.to_service,
            urgency=event.urgency,
            raised_on=event.raised_on,
            source_event_ids=[str(event_id)],
        )
        .on_conflict_do_nothing()
    )


class SqlProjectedFacts:
    """The projected facts, read from the read-model tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def sessions_of(self, supervisee_id: str) -> list[SupervisionSessionFact]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(supervision_sessions).where(
                    supervision_sessions.c.supervisee_id == supervisee_id
                )
            )
            return [SupervisionSessionFact.model_validate(row._asdict()) for row in rows]

    async def referrals_at(self, site_id: str, raised_by: dt.date) -> list[ReferralFact]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(referrals).where(
                    referrals.c.site_id == site_id, referrals.c.raised_on <= raised_by
                )
            )
            return [
                ReferralFact.model_validate(
                    {**row._asdict(), "source_event_ids": tuple(row.source_event_ids)}
                )
                for row in rows
            ]
