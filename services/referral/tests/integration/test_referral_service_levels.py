"""The referral records and the service's clock on a real database (each storage backend): the
job `check_service_levels(now)` run at chosen instants, never waited for."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from conftest import DatabaseFactory
from contracts.events import ReferralRaised, ReferralServiceLevelBreached
from infra.application import CommandContext, to_new_events
from infra.commands import CommandRunner, Committed, SqlUnitStore, Unit, Verdict
from infra.db import Database
from infra.eventstore import EventMetadata, SqlEventStore, StreamAppend
from infra.schema import outbox
from infra.security.crypto import memory_keyring
from referral.adapters.publishing import translate
from referral.adapters.records import MIGRATIONS, SqlReferralIndex, _create_index, referral_index
from referral.application.handlers import (
    CLOCK_ACTOR,
    ReferConcernToTherapy,
    Referrals,
    check_service_levels,
    get_referral,
    list_referrals,
)
from referral.domain import (
    AcceptReferral,
    CancelReferral,
    CoachingConcern,
    RaiseReferral,
    ReferralCommand,
    ReferralState,
    ScheduleReferral,
    decide,
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


class Records:
    """The referral service's runner and use cases on one database."""

    def __init__(self, db: Database, store: SqlUnitStore | None = None) -> None:
        self.index = SqlReferralIndex(db)
        self.referrals = Referrals(self.index)
        self.runner = CommandRunner(store or SqlUnitStore(db, translate), memory_keyring())

    async def handle(self, command: ReferralCommand, context: CommandContext) -> None:
        await self.runner.run(self.referrals.step, command, context)

    async def check(self, now: dt.datetime) -> int:
        return await check_service_levels(now, self.runner, self.referrals)

    async def get(self, referral_id: str) -> ReferralState:
        return await get_referral(referral_id, self.runner)

    async def listed(self, site_id: str, status: Any, limit: int) -> list[ReferralState]:
        return await list_referrals(site_id, status, limit, self.runner, self.index)


@pytest.fixture
def records(db: Database) -> Records:
    return Records(db)


async def published(db: Database, ce_type: str) -> list[dict[str, Any]]:
    async with db.read() as conn:
        rows = await conn.execute(select(outbox.c.data).where(outbox.c.ce_type == ce_type))
        return [dict(row.data) for row in rows]


async def test_an_unacknowledged_urgent_referral_is_breached_once_per_target(
    db: Database, records: Records
) -> None:
    await records.handle(raise_("ref-1"), ctx(T0))

    assert await records.check(T0 + 4 * HOUR) == 0
    assert await records.check(T0 + 5 * HOUR) == 1
    assert await records.check(T0 + 5 * HOUR) == 0
    assert await records.check(T0 + 6 * HOUR) == 0
    assert await records.check(T0 + 25 * HOUR) == 1
    assert await records.check(T0 + 100 * HOUR) == 0

    state = await records.get("ref-1")
    assert [(b.target, b.detected_at) for b in state.breaches] == [
        ("acknowledgement", T0 + 5 * HOUR),
        ("scheduling", T0 + 25 * HOUR),
    ]
    messages = await published(db, ReferralServiceLevelBreached.ce_type())
    assert [(m["target"], m["due_at"]) for m in messages] == [
        ("acknowledgement", (T0 + 4 * HOUR).isoformat().replace("+00:00", "Z")),
        ("scheduling", (T0 + 24 * HOUR).isoformat().replace("+00:00", "Z")),
    ]


async def test_the_clock_only_breaches_what_is_still_waiting(records: Records) -> None:
    for referral_id in ("waiting", "accepted", "scheduled", "cancelled"):
        await records.handle(raise_(referral_id), ctx(T0))
    for referral_id in ("accepted", "scheduled"):
        await records.handle(accept(referral_id), ctx(T0 + HOUR))
    await records.handle(
        ScheduleReferral(referral_id="scheduled", appointment_on=T0.date(), actor="coord-1"),
        ctx(T0 + 2 * HOUR),
    )
    await records.handle(
        CancelReferral(referral_id="cancelled", reason="raised_in_error", actor="coord-1"),
        ctx(T0 + HOUR),
    )

    assert await records.check(T0 + 30 * HOUR) == 3

    targets = {
        rid: [b.target for b in (await records.get(rid)).breaches]
        for rid in ("waiting", "accepted", "scheduled", "cancelled")
    }
    assert targets == {
        "waiting": ["acknowledgement", "scheduling"],
        "accepted": ["scheduling"],
        "scheduled": [],
        "cancelled": [],
    }
    assert await records.index.due(T0 + 1000 * HOUR, 100) == []


async def test_a_routine_referral_is_held_to_its_own_targets(records: Records) -> None:
    await records.handle(raise_("routine-1", urgency="routine"), ctx(T0))

    assert await records.check(T0 + 47 * HOUR) == 0
    assert await records.check(T0 + 49 * HOUR) == 1


class RacingStore(SqlUnitStore):
    """Another command appends to the referral between the clock's read and its write, as long
    as `races` says (every attempt, or only the first)."""

    def __init__(self, db: Database, races: int) -> None:
        super().__init__(db, translate)
        self.races = races

    async def commit(self, unit: Unit, *, within: AsyncConnection | None = None) -> Committed:
        if self.races and unit.metadata.actor == CLOCK_ACTOR:
            self.races -= 1
            return Committed(Verdict.CONFLICT, tuple(a.stream_id for a in unit.appends))
        return await super().commit(unit, within=within)


async def test_a_referral_changed_while_checked_is_decided_again_in_the_same_tick(
    db: Database,
) -> None:
    racing = Records(db, RacingStore(db, races=1))
    await racing.handle(raise_("ref-1"), ctx(T0))

    assert await racing.check(T0 + 5 * HOUR) == 1
    assert await racing.check(T0 + 5 * HOUR) == 0


async def test_a_referral_that_keeps_changing_while_checked_is_left_to_the_next_tick(
    db: Database,
) -> None:
    store = RacingStore(db, races=1000)
    racing = Records(db, store)
    await racing.handle(raise_("ref-1"), ctx(T0))

    assert await racing.check(T0 + 5 * HOUR) == 0
    store.races = 0
    assert await racing.check(T0 + 5 * HOUR) == 1


async def test_a_site_lists_its_referrals_by_status(records: Records) -> None:
    for referral_id, site in (("a-1", "site-a"), ("a-2", "site-a"), ("b-1", "site-b")):
        await records.handle(raise_(referral_id, site_id=site), ctx(T0))
    await records.handle(accept("a-2"), ctx(T0 + HOUR))

    def ids(states: list[ReferralState]) -> list[str]:
        return [s.referral.referral_id for s in states if s.referral is not None]

    assert ids(await records.listed("site-a", None, 100)) == ["a-1", "a-2"]
    assert ids(await records.listed("site-a", "accepted", 100)) == ["a-2"]
    assert ids(await records.listed("site-a", "raised", 100)) == ["a-1"]
    assert ids(await records.listed("site-b", None, 100)) == ["b-1"]
    assert ids(await records.listed("site-a", None, 1)) == ["a-1"]


async def test_a_concern_raises_its_referral_in_the_consumers_transaction_once(
    db: Database, records: Records
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
            await records.runner.run(
                records.referrals.refer_concern,
                ReferConcernToTherapy(concern=concern),
                ctx(T0 + HOUR),
                within=conn,
            )

    (message,) = await published(db, ReferralRaised.ce_type())
    assert message["origin"] == "coaching-engagement/eng-1"
    assert message["raised_at"] == "2026-05-19T09:00:00Z"
    referral_id = referral_for_concern(concern).referral_id
    assert await records.index.due(T0 + 5 * HOUR, 10) == [referral_id]


async def test_the_index_is_filled_from_the_referrals_already_in_the_log(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database(())  # a database from before the index existed
    # Recorded directly in the event store, as an earlier version of the service did.
    await _record_without_index(raise_("old-1"), db)

    async with db.transaction() as conn:
        await conn.run_sync(_create_index)

    async with db.read() as conn:
        rows = (await conn.execute(select(referral_index))).all()
    assert [(r.referral_id, r.status, r.next_due_at) for r in rows] == [
        ("old-1", "raised", T0 + 4 * HOUR)
    ]


async def _record_without_index(command: RaiseReferral, db: Database) -> None:
    from referral.domain.referral import INITIAL, stream_id

    events = decide(INITIAL, command, T0)
    append = StreamAppend(stream_id(command.referral_id), 0, to_new_events(events, T0))
    await SqlEventStore(db).append([append], ctx(T0).metadata)


async def test_every_step_retried_after_the_loop_moved_on_is_answered_as_first_recorded(
    db: Database, records: Records
) -> None:
    steps: list[ReferralCommand] = [
        raise_("ref-1"),
        accept("ref-1"),
        ScheduleReferral(referral_id="ref-1", appointment_on=T0.date(), actor="coord-1"),
        CancelReferral(referral_id="ref-1", reason="client_moved", actor="coord-1"),
    ]
    first = [await records.runner.run(records.referrals.step, s, ctx(T0 + HOUR)) for s in steps]

    # Every step again, once the referral is closed: each answered from its record.
    again = [await records.runner.run(records.referrals.step, s, ctx(T0 + 9 * HOUR)) for s in steps]

    assert [r.retry for r in first] == [False] * 4
    assert [(r.retry, r.already_recorded) for r in again] == [(True, True)] * 4
    assert again[0].outcome == first[0].outcome
    assert (await records.get("ref-1")).status == "cancelled"
    assert len(await published(db, ReferralRaised.ce_type())) == 1
