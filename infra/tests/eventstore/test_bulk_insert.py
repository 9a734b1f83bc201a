"""Many rows in one statement execution, each value converted by its column's type, on every
backend: what a consumer writes a batch of events with."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Time,
    Uuid,
    select,
)

from conftest import DatabaseFactory
from infra.bulk import InsertOnce
from infra.db import Migration, UtcDateTime

pytestmark = pytest.mark.integration

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("thing_id", String(20), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("on", Date),
    Column("at", Time),
    Column("recorded_at", UtcDateTime),
    Column("tags", JSON),
    Column("ok", Boolean),
    Column("ref", Uuid),
)


def _create_things(conn: Connection) -> None:
    metadata.create_all(conn)


THINGS = Migration("bulk_tests", 1, "things", _create_things)


async def test_rows_are_stored_with_their_types_and_a_taken_key_adds_nothing(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database([THINGS])
    insert = InsertOnce(things)
    ref = uuid.uuid4()
    recorded = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    first = {
        "thing_id": "a",
        "count": 1,
        "on": dt.date(2026, 3, 2),
        "at": dt.time(9, 15),
        "recorded_at": recorded,
        "tags": ["x", "y"],
        "ok": True,
        "ref": ref,
    }
    blank = dict.fromkeys(first) | {"thing_id": "b", "count": 2}

    async with db.transaction() as conn:
        await insert(conn, [first, blank, first | {"count": 99}])
    async with db.transaction() as conn:
        await insert(conn, [first | {"count": 100}])
    async with db.read() as conn:
        rows = (await conn.execute(select(things).order_by(things.c.thing_id))).all()

    a, b = rows
    assert (a.count, a.on, a.at, a.tags, a.ok, a.ref) == (
        1,
        dt.date(2026, 3, 2),
        dt.time(9, 15),
        ["x", "y"],
        True,
        ref,
    )
    assert a.recorded_at == recorded and a.recorded_at.tzinfo == dt.UTC
    assert (b.count, b.on, b.tags, b.ok) == (2, None, None, None)


def test_a_column_the_table_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="things has no column colour"):
        InsertOnce(things, ["thing_id", "colour"])
