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
    Text,
    Time,
    Uuid,
    cast,
    select,
)
from sqlalchemy.exc import DataError

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


async def test_a_value_longer_than_its_column_is_refused_never_cut_short(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database([THINGS])
    insert = InsertOnce(things)
    longer = dict.fromkeys(c.name for c in things.columns) | {"thing_id": "t" * 21, "count": 1}

    if db.is_sqlite:
        # SQLite keeps a value of any length in any column: all of it.
        async with db.transaction() as conn:
            await insert(conn, [longer])
        async with db.read() as conn:
            assert (await conn.execute(select(things.c.thing_id))).scalars().all() == ["t" * 21]
    else:
        with pytest.raises(DataError):
            async with db.transaction() as conn:
                await insert(conn, [longer])


def test_a_column_the_table_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="things has no column colour"):
        InsertOnce(things, ["thing_id", "colour"])


async def test_values_recurring_in_one_call_are_stored_as_each_would_be_alone(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database([THINGS])
    insert = InsertOnce(things)
    day = dt.date(2026, 3, 2)
    utc = dt.datetime(2026, 3, 2, 16, 30, tzinfo=dt.UTC)
    # The same instant written with another offset, and the same day as a datetime.
    austin = utc.astimezone(dt.timezone(dt.timedelta(hours=-6)))
    rows = [
        {"thing_id": "a", "count": 1, "on": day, "recorded_at": utc, "tags": ["x", "y"]},
        {"thing_id": "b", "count": 2, "on": day, "recorded_at": austin, "tags": ["x", "y"]},
        {"thing_id": "c", "count": 3, "on": None, "recorded_at": None, "tags": [1, True]},
        {"thing_id": "d", "count": 4, "on": day, "recorded_at": utc, "tags": [True, 1]},
    ]
    rows = [dict.fromkeys(c.name for c in things.columns) | row for row in rows]

    async with db.transaction() as conn:
        await insert(conn, rows)
    async with db.transaction() as conn:
        for row in rows:
            await insert(conn, [row | {"thing_id": f"{row['thing_id']}-alone"}])
    stored_text = [cast(things.c[name], Text) for name in ("on", "recorded_at", "tags")]
    async with db.read() as conn:
        stored = {
            row.thing_id: (row.on, row.recorded_at, row.tags)
            for row in await conn.execute(select(things))
        }
        texts = {
            thing_id: tuple(values)
            for thing_id, *values in await conn.execute(select(things.c.thing_id, *stored_text))
        }

    for thing_id in "abcd":
        assert stored[thing_id] == stored[f"{thing_id}-alone"]
        assert texts[thing_id] == texts[f"{thing_id}-alone"]
    assert stored["b"] == (day, utc, ["x", "y"])
    assert stored["c"] == (None, None, [1, True])
    assert stored["d"][2] == [True, 1]
