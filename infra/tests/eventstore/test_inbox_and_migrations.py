"""The inbox makes applying an event once; migrations are versioned and applied once."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Connection, func, select, text

from conftest import DatabaseFactory
from infra.db import Database, Migration, schema_migrations
from infra.inbox import first_deliveries, first_delivery
from infra.schema import INFRA_MIGRATIONS, inbox

pytestmark = pytest.mark.integration


async def test_an_event_is_a_first_delivery_once_per_consumer(database: Database) -> None:
    event_id = uuid.uuid4()
    async with database.transaction() as conn:
        assert await first_delivery(conn, "compliance", event_id) is True
        assert await first_delivery(conn, "compliance", event_id) is False
        assert await first_delivery(conn, "referral", event_id) is True


async def test_a_rolled_back_delivery_is_delivered_again(database: Database) -> None:
    event_id = uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with database.transaction() as conn:
            assert await first_delivery(conn, "compliance", event_id)
            raise RuntimeError("the read-model change failed")
    async with database.transaction() as conn:
        assert await first_delivery(conn, "compliance", event_id) is True


async def test_of_a_batch_only_the_events_not_applied_before_are_first_deliveries(
    database: Database,
) -> None:
    before, fresh, twice = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with database.transaction() as conn:
        assert await first_delivery(conn, "compliance", before)

    async with database.transaction() as conn:
        new = await first_deliveries(conn, "compliance", [before, fresh, twice, twice])
        again = await first_deliveries(conn, "compliance", [fresh, twice])
        elsewhere = await first_deliveries(conn, "referral", [before])

    assert new == {fresh, twice}
    assert again == set()
    assert elsewhere == {before}


async def test_a_batch_larger_than_one_statement_is_recorded_whole(database: Database) -> None:
    ids = [uuid.uuid4() for _ in range(1000)]
    async with database.transaction() as conn:
        assert await first_deliveries(conn, "compliance", ids[:10]) == set(ids[:10])
        assert await first_deliveries(conn, "compliance", ids) == set(ids[10:])
    async with database.read() as conn:
        stored = await conn.scalar(select(func.count()).select_from(inbox))
    assert stored == 1000


def _create_widgets(conn: Connection) -> None:
    conn.execute(text("CREATE TABLE widgets (id INTEGER PRIMARY KEY)"))


def _add_name(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE widgets ADD COLUMN name VARCHAR(20)"))


async def test_migrations_apply_in_order_once_and_are_recorded(
    make_database: DatabaseFactory,
) -> None:
    migrations = [
        Migration("widgets", 2, "name the widgets", _add_name),
        Migration("widgets", 1, "widgets table", _create_widgets),
    ]
    db = await make_database(migrations)

    await db.migrate()  # again: nothing left to apply

    async with db.transaction() as conn:
        await conn.execute(text("INSERT INTO widgets (id, name) VALUES (1, 'a')"))
        applied = (
            await conn.execute(
                select(schema_migrations.c.component, func.max(schema_migrations.c.version))
                .group_by(schema_migrations.c.component)
                .order_by(schema_migrations.c.component)
            )
        ).all()
    assert [tuple(row) for row in applied] == [
        ("infra", INFRA_MIGRATIONS[-1].version),
        ("widgets", 2),
    ]
