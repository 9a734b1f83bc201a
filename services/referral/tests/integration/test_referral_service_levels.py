"""The referral records and the service's clock on a real database (each storage backend): the
job `check_service_levels(now)` run at chosen instants, never waited for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from conftest import DatabaseFactory
from contracts.events import ReferralRaised, ReferralServiceLevelBreached
from infra.application import CommandContext, Loaded
from infra.db import Database
from infra.ddd import DomainEvent
from infra.eventstore import ConcurrencyError, EventMetadata, SqlEventStore
from infra.schema import outbox
from referral.adapters.publishing import translate
from referral.adapters.records import MIGRATIONS, SqlReferralRecords, _create_index, referral_index
from referral.application.handlers import (
    check_service_levels,
    get_referral,
    handle,
    list_referrals,
    refer_concern_to_therapy,
)
from referral.domain import (
    AcceptReferral,
    CancelReferral,
    CoachingConcern,
    RaiseReferral,
    ReferralState,
    ScheduleReferral,
    referral_for_concern,
)

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 5, 19, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def ctx(now: dt.datetime) -> CommandContext:
    return CommandContext(now=now, metadata=EventMetadata(correlation_id="c", actor="coord-1"))


def raise_(referral_id: str, *, urgency: str = "urgent", site_id: str = "site-a") -> RaiseReferral:
    return RaiseReferral(
        referral_id=referral_id,
        client_id="client-1",
        site_id=site_id,
        from_service="coaching",
        to_service="therapy",
        urgency=urgency,
        reason="symptoms_resurfaced",
        source=f"coaching-concern/{referral_id}",
        raised_at=T0,
    )


def accept(referral_id: str) -> AcceptReferral:
    return AcceptReferral(referral_id=referral_id, accepted_by="therapist-1", actor="coord-1")


@pytest.fixture
async def db(make_database: DatabaseFactory) -> Database:
    return await make_database(MIGRATIONS)


@pytest.fixture
def records(db: Database) -> SqlReferralRecords:
    return SqlReferralRecords(db, SqlEventStore(db), translate)


async def published(db: Database, ce_type: str) -> list[dict[str, Any]]:
    async with db.read() as conn:
        rows = await conn.execute(select(outbox.c.data).where(outbox.c.ce_type == ce_type))
        return [dict(row.data) for row in rows]


async def test_an_unacknowledged_urgent_referral_is_breached_once_per_target(
    db: Database, records: SqlReferralRecords
) -> None:
    await handle(raise_("ref-1"), ctx(T0), records)

    assert await check_service_levels(T0 + 4 * HOUR, records) == 0
    assert await check_service_levels(T0 + 5 * HOUR, records) == 1
    assert await check_service_levels(T0 + 5 * HOUR, records) == 0
    assert await check_service_levels(T0 + 6 * HOUR, records) == 0
    assert await check_service_levels(T0 + 25 * HOUR, records) == 1
    assert await check_service_levels(T0 + 100 * HOUR, records) == 0

    state = await get_referral("ref-1", records)
    assert [(b.target, b.detected_at) for b in state.breaches] == [
        ("acknowledgement", T0 + 5 * HOUR),
        ("scheduling", T0 + 25 * HOUR),
    ]
    messages = await published(db, ReferralServiceLevelBreached.ce_type())
    assert [(m["target"], m["due_at"]) for m in messages] == [
        ("acknowledgement", (T0 + 4 * HOUR).isoformat().replace("+00:00", "Z")),
        ("scheduling", (T0 + 24 * HOUR).isoformat().replace("+00:00", "Z")),
    ]


async def test_the_clock_only_breaches_what_is_still_waiting(records: SqlReferralRecords) -> None:
    for referral_id in ("waiting", "accepted", "scheduled", "cancelled"):
        await handle(raise_(referral_id), ctx(T0), records)
    for referral_id in ("accepted", "scheduled"):
        await handle(accept(referral_id), ctx(T0 + HOUR), records)
    await handle(
        ScheduleReferral(referral_id="scheduled", appointment_on=T0.date(), actor="coord-1"),
        ctx(T0 + 2 * HOUR),
        records,
    )
    await handle(
        CancelReferral(referral_id="cancelled", reason="raised_in_error", actor="coord-1"),
        ctx(T0 + HOUR),
        records,
    )

    assert await check_service_levels(T0 + 30 * HOUR, records) == 3

    targets = {
        rid: [b.target for b in (await get_referral(rid, records)).breaches]
        for rid in ("waiting", "accepted", "scheduled", "cancelled")
    }
    assert targets == {
        "waiting": ["acknowledgement", "scheduling"],
        "accepted": ["scheduling"],
        "scheduled": [],
        "cancelled": [],
    }
    assert await records.due(T0 + 1000 * HOUR, 100) == []


async def test_a_routine_referral_is_held_to_its_own_targets(records: SqlReferralRecords) -> None:
    await handle(raise_("routine-1", urgency="routine"), ctx(T0), records)

    assert await check_service_levels(T0 + 47 * HOUR, records) == 0
    assert await check_service_levels(T0 + 49 * HOUR, records) == 1


async def test_a_referral_changed_while_checked_is_left_to_the_next_tick(
    db: Database, records: SqlReferralRecords
) -> None:
    class Racing(SqlReferralRecords):
        """Another command appends to the referral between the clock's read and its write."""

        raced = False

        async def record(
            self,
            loaded: Loaded[ReferralState],
            events: Sequence[DomainEvent],
            ctx: CommandContext,
            conn: AsyncConnection | None = None,
        ) -> None:
            if not self.raced and ctx.metadata.actor == "service:referral-clock":
                self.raced = True
                raise ConcurrencyError(loaded.stream_id, loaded.version, loaded.version + 1)
            await super().record(loaded, events, ctx, conn)

    racing = Racing(db, SqlEventStore(db), translate)
    await handle(raise_("ref-1"), ctx(T0), racing)

    assert await check_service_levels(T0 + 5 * HOUR, racing) == 0
    assert await check_service_levels(T0 + 5 * HOUR, racing) == 1


async def test_a_site_lists_its_referrals_by_status(records: SqlReferralRecords) -> None:
    for referral_id, site in (("a-1", "site-a"), ("a-2", "site-a"), ("b-1", "site-b")):
        await handle(raise_(referral_id, site_id=site), ctx(T0), records)
    await handle(accept("a-2"), ctx(T0 + HOUR), records)

    def ids(states: list[ReferralState]) -> list[str]:
        return [s.referral.referral_id for s in states if s.referral is not None]

    assert ids(await list_referrals("site-a", None, 100, records)) == ["a-1", "a-2"]
    assert ids(await list_referrals("site-a", "accepted", 100, records)) == ["a-2"]
    assert ids(await list_referrals("site-a", "raised", 100, records)) == ["a-1"]
    assert ids(await list_referrals("site-b", None, 100, records)) == ["b-1"]
    assert ids(await list_referrals("site-a", None, 1, records)) == ["a-1"]


async def test_a_concern_raises_its_referral_in_the_consumers_transaction_once(
    db: Database, records: SqlReferralRecords
) -> None:
    concern = CoachingConcern(
        engagement_id="eng-1",
        concern_id="con-1",
        client_id="client-1",
        site_id="site-a",
        urgency="urgent",
        raised_on=T0.date(),
        recorded_at=T0,
    )
    for _ in range(2):
        async with db.transaction() as conn:
            await refer_concern_to_therapy(concern, ctx(T0 + HOUR), records, conn)

    (message,) = await published(db, ReferralRaised.ce_type())
    assert message["origin"] == "coaching-engagement/eng-1"
    assert message["raised_at"] == "2026-05-19T09:00:00Z"
    referral_id = referral_for_concern(concern).referral_id
    assert await records.due(T0 + 5 * HOUR, 10) == [referral_id]


async def test_the_index_is_filled_from_the_referrals_already_in_the_log(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database(())  # a database from before the index existed
    store = SqlEventStore(db)
    # Recorded directly in the event store, as an earlier version of the service did.
    no_index = SqlReferralRecords(db, store, translate)
    await _record_without_index(no_index, raise_("old-1"), db)

    async with db.transaction() as conn:
        await conn.run_sync(_create_index)

    async with db.read() as conn:
        rows = (await conn.execute(select(referral_index))).all()
    assert [(r.referral_id, r.status, r.next_due_at) for r in rows] == [
        ("old-1", "raised", T0 + 4 * HOUR)
    ]


async def _record_without_index(
    records: SqlReferralRecords, command: RaiseReferral, db: Database
) -> None:
    from referral.domain import decide

    loaded = await records.load(command.referral_id)
    events = decide(loaded.state, command, T0)
    await SqlEventStore(db).append([loaded.append(events, T0)], ctx(T0).metadata)
