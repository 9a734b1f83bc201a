"""The sessions of each supervisor, in SQL: an index beside the event store.

Why an index rather than the supervisor's own stream: every session logged under a supervisor
used to append a note to their stream, so the stream grew with every session (folding it cost
more with each one) and any two sessions of one supervisor contended for it. A license lapse
learnt later is the only thing that needs the list, to find the sessions it must mark. The index
holds one row per session (supervisor, session, its current date), written in the transaction
of the session's events, so it is never behind them; it is derived entirely from the log: the
migration that creates it fills it from the sessions already recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Column, Connection, Date, Index, MetaData, String, Table, select

from infra.commands import IndexRow, RowsCheck
from infra.db import Database, Migration
from infra.schema import events as event_log
from supervision.domain import EVENT_TYPES, session

metadata = MetaData()

supervisor_sessions = Table(
    "supervisor_sessions",
    metadata,
    Column("supervisor_id", String(64), primary_key=True),
    Column("session_id", String(64), primary_key=True),
    # The session's date as it now stands (an amendment may move it).
    Column("date", Date, nullable=False),
    Index("ix_supervisor_sessions_date", "supervisor_id", "date"),
)


def _create_index(conn: Connection) -> None:
    """Creates the index and fills it from the sessions already in the log."""
    metadata.create_all(conn, tables=[supervisor_sessions])
    streams: dict[str, session.SessionState] = {}
    rows = conn.execute(
        select(event_log.c.stream_id, event_log.c.type, event_log.c.data)
        .where(event_log.c.stream_id.like("session-%"))
        .order_by(event_log.c.position)
    )
    for row in rows:
        event = EVENT_TYPES.load(row.type, row.data)
        streams[row.stream_id] = session.evolve(streams.get(row.stream_id, session.INITIAL), event)
    filled = [
        {"supervisor_id": s.supervisor_id, "session_id": s.session_id, "date": s.date}
        for state in streams.values()
        if (s := state.session) is not None
    ]
    if filled:
        conn.execute(supervisor_sessions.insert(), filled)


MIGRATIONS = (
    Migration(
        "supervision",
        1,
        "sessions by supervisor, in place of the notes on the supervisor's stream",
        _create_index,
    ),
)


class SqlSessionsIndex:
    """SessionsIndex on the service's database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def row(self, supervisor_id: str, session_id: str, date: dt.date) -> IndexRow:
        values = {"supervisor_id": supervisor_id, "session_id": session_id, "date": date}
        return IndexRow(supervisor_sessions, values, "upsert")

    def check(self, supervisor_id: str, sessions: Mapping[str, dt.date]) -> RowsCheck:
        return RowsCheck(
            supervisor_sessions,
            {"supervisor_id": supervisor_id},
            ("session_id", "date"),
            frozenset(sessions.items()),
        )

    async def sessions_of(self, supervisor_id: str) -> Mapping[str, dt.date]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(supervisor_sessions.c.session_id, supervisor_sessions.c.date).where(
                    supervisor_sessions.c.supervisor_id == supervisor_id
                )
            )
            return {row.session_id: row.date for row in rows}
