"""What compliance officers record, through the command runner on each storage backend: a
resolution decided on the supervisee's evaluation, an approved leave, each recorded once with
its outbox message; fed back from the compliance topic, both change the evaluation from their
own dates, as known from when they were recorded."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from compliance.adapters.publishing import translate
from compliance.adapters.read_model import MIGRATIONS, SqlProjectedFacts
from compliance.application.oversight import Oversight
from compliance.application.queries import supervisee_evaluation
from compliance.domain.engine import SuperviseeEvaluation
from compliance.domain.oversight.commands import RecordApprovedLeave, ResolveVerdict
from compliance.domain.oversight.errors import (
    LeavesMustNotOverlap,
    ResolutionMustNotBeInTheFuture,
    VerdictMustBeResolvedOnce,
    VerdictMustBeShownForTheSupervisee,
)
from compliance.domain.record import UnknownSupervisee
from conftest import DatabaseFactory
from contracts import events as ev
from contracts.rulepacks.loader import load_rule_packs
from contracts.rulepacks.model import RulePacks
from infra.application import CommandContext
from infra.commands import CommandRunner, SqlUnitStore
from infra.db import Database
from infra.ddd import AlreadyRecorded
from infra.eventstore import EventMetadata, OutboxMessage
from infra.messaging.cloudevents import IncomingEvent, decode, encode
from infra.schema import outbox
from infra.security.crypto import memory_keyring

# The keyring the service's processes share (one per test module: a process's keys are
# everyone's, as over the keyring database).
KEYRING = memory_keyring()

pytestmark = pytest.mark.integration

D = dt.date.fromisoformat
SEE = "see-oversight"
SUPERVISOR = "sup-oversight"
MONTHLY_MINIMUM = "tx-lpc-associate.monthly-minimum"


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), tzinfo=dt.UTC)


def officer(day: str, hour: int = 12) -> CommandContext:
    return CommandContext(
        now=at(day, hour), metadata=EventMetadata(correlation_id="c-1", actor="officer-1")
    )


@pytest.fixture(scope="module")
def packs() -> RulePacks:
    return load_rule_packs()


def weeks(first: str, last: str) -> list[dt.date]:
    monday, mondays = D(first), []
    while monday <= D(last):
        mondays.append(monday)
        monday += dt.timedelta(weeks=1)
    return mondays


def practice_and_supervision(feed: Any) -> list[IncomingEvent]:
    """A TX LPC Associate practising from March to June with 3.5 h of supervision in March and
    none after it: the board's monthly minimum (TX1) is not met in any of those months."""
    events: list[tuple[ev.EventContract, dt.datetime]] = [
        (
            ev.SuperviseeRegistered(
                supervisee_id=SEE,
                credential_track="TX-LPC-ASSOCIATE",
                license_number="LPC-A 1",
                home_site_id="site-austin",
                registered_on=D("2026-02-20"),
            ),
            at("2026-02-20"),
        ),
        (
            ev.AgreementSigned(
                supervisee_id=SEE,
                agreement_id="agr-oversight",
                supervisor_id=SUPERVISOR,
                site_id="site-austin",
                credential_track="TX-LPC-ASSOCIATE",
                start_date=D("2026-03-01"),
                end_date=D("2027-12-31"),
            ),
            at("2026-02-25"),
        ),
    ]
    for monday in weeks("2026-03-02", "2026-06-22"):
        hours = ev.PracticeHoursRecorded(
            supervisee_id=SEE,
            site_id="site-austin",
            week_start=monday,
            direct_minutes=1200,
            indirect_minutes=0,
        )
        events.append((hours, at((monday + dt.timedelta(days=6)).isoformat())))
    for session_id, day, minutes in (("s-1", "2026-03-03", 120), ("s-2", "2026-03-17", 90)):
        session = ev.SessionLogged(
            session_id=session_id,
            kind="clinical",
            format="individual",
            modality="in_person",
            date=D(day),
            start_time=dt.time(10),
            minutes=minutes,
            supervisor_id=SUPERVISOR,
            supervisee_ids=(SEE,),
            site_id="site-austin",
            techniques=(),
            focus=(),
        )
        events.append((session, at(day)))
    return [feed.message(event, when) for event, when in events]


async def oversight_on(
    make_database: DatabaseFactory, packs: RulePacks, feed: Any
) -> tuple[Oversight, SqlProjectedFacts, Database]:
    db = await make_database(MIGRATIONS)
    facts = SqlProjectedFacts(db)
    await feed.one_by_one(db, practice_and_supervision(feed))
    return (
        Oversight(CommandRunner(SqlUnitStore(db, translate), KEYRING), facts, packs),
        facts,
        db,
    )


async def published(db: Database) -> list[OutboxMessage]:
    """The outbox's messages, as the relay would publish them."""
    async with db.read() as conn:
        rows = await conn.execute(select(outbox).order_by(outbox.c.id))
        return [
            OutboxMessage(
                event_id=row.event_id,
                topic=row.topic,
                key=row.message_key,
                ce_type=row.ce_type,
                source=row.source,
                subject=row.subject,
                occurred_at=row.occurred_at,
                data=row.data,
                metadata=EventMetadata.from_dict(row.metadata),
            )
            for row in rows
        ]


async def consumed_back(db: Database, feed: Any) -> list[str]:
    """Everything in the outbox, delivered to the projector as Kafka delivers it."""
    messages = await published(db)
    await feed.one_by_one(db, [decode(*encode(m)) for m in messages])
    return [m.ce_type for m in messages]


async def evaluated(
    facts: SqlProjectedFacts, packs: RulePacks, as_of: str, known_at: dt.datetime
) -> SuperviseeEvaluation:
    return (await supervisee_evaluation(facts, packs, SEE, D(as_of), known_at)).shown


def march_finding(evaluation: SuperviseeEvaluation) -> Any:
    (finding,) = [
        v
        for v in evaluation.verdicts
        if v.rule_id == MONTHLY_MINIMUM and v.window is not None and v.window.start.month == 3
    ]
    return finding


def resolve(verdict_id: str, **overrides: Any) -> ResolveVerdict:
    fields: dict[str, Any] = {
        "command_id": "resolve-1",
        "supervisee_id": SEE,
        "verdict_id": verdict_id,
        "kind": "documented_exception",
        "reason": "the supervisor's written approval of a reduced month is on file",
        "resolved_by": "officer-1",
        "on": "2026-04-15",
    }
    return ResolveVerdict(**(fields | overrides))


def leave(**overrides: Any) -> RecordApprovedLeave:
    fields: dict[str, Any] = {
        "command_id": "leave-1",
        "supervisee_id": SEE,
        "start": "2026-05-01",
        "end": "2026-06-30",
        "approved_by": SUPERVISOR,
        "reason": "extended leave approved in writing (TX1)",
        "recorded_by": "officer-1",
    }
    return RecordApprovedLeave(**(fields | overrides))


async def test_a_resolution_is_recorded_once_and_the_evaluation_shows_it_from_its_day(
    make_database: DatabaseFactory, packs: RulePacks, feed: Any
) -> None:
    oversight, facts, db = await oversight_on(make_database, packs, feed)
    finding = march_finding(await evaluated(facts, packs, "2026-04-15", at("2026-04-20")))
    assert finding.resolution is None

    first = await oversight.resolve_verdict(resolve(finding.verdict_id), officer("2026-04-20"))
    retry = await oversight.resolve_verdict(resolve(finding.verdict_id), officer("2026-05-02"))

    assert first.recorded and not retry.recorded
    assert retry.answer == first.answer
    assert first.answer.verdict_id == finding.verdict_id
    assert await consumed_back(db, feed) == ["continuum.compliance.VerdictResolved.v1"]
    now = at("2026-04-21")
    resolution = march_finding(await evaluated(facts, packs, "2026-04-15", now)).resolution
    assert resolution is not None
    assert (resolution.by, resolution.on, resolution.kind) == (
        "officer-1",
        D("2026-04-15"),
        "documented_exception",
    )
    # It stands from its own day, and is known from when it was recorded.
    assert march_finding(await evaluated(facts, packs, "2026-04-14", now)).resolution is None
    before = at("2026-04-20", 11)
    assert march_finding(await evaluated(facts, packs, "2026-04-15", before)).resolution is None


async def test_a_resolution_is_refused_for_what_the_record_does_not_allow(
    make_database: DatabaseFactory, packs: RulePacks, feed: Any
) -> None:
    oversight, facts, _ = await oversight_on(make_database, packs, feed)
    finding = march_finding(await evaluated(facts, packs, "2026-04-15", at("2026-04-20")))
    await oversight.resolve_verdict(resolve(finding.verdict_id), officer("2026-04-20"))

    # The same command id with other content (gRPC ALREADY_EXISTS).
    with pytest.raises(AlreadyRecorded):
        await oversight.resolve_verdict(
            resolve(finding.verdict_id, kind="waiver"), officer("2026-04-20")
        )
    with pytest.raises(VerdictMustBeResolvedOnce, match="resolved by officer-1 on 2026-04-15"):
        await oversight.resolve_verdict(
            resolve(finding.verdict_id, command_id="resolve-2"), officer("2026-04-21")
        )
    with pytest.raises(VerdictMustBeShownForTheSupervisee, match="has no verdict 0f0f"):
        await oversight.resolve_verdict(
            resolve("0f0f0f0f-0f0f-5f0f-8f0f-0f0f0f0f0f0f", command_id="resolve-3"),
            officer("2026-04-21"),
        )
    # April's finding is not shown on 15 April: the month was not over.
    (april,) = [
        v
        for v in (await evaluated(facts, packs, "2026-05-02", at("2026-05-02"))).verdicts
        if v.rule_id == MONTHLY_MINIMUM and v.on.month == 4
    ]
    with pytest.raises(VerdictMustBeShownForTheSupervisee, match="on 2026-04-15"):
        await oversight.resolve_verdict(
            resolve(april.verdict_id, command_id="resolve-4"), officer("2026-05-02")
        )
    with pytest.raises(ResolutionMustNotBeInTheFuture):
        await oversight.resolve_verdict(
            resolve(finding.verdict_id, command_id="resolve-5", on="2026-04-22"),
            officer("2026-04-21"),
        )
    with pytest.raises(UnknownSupervisee):
        await oversight.resolve_verdict(
            resolve(finding.verdict_id, command_id="resolve-6", supervisee_id="see-nobody"),
            officer("2026-04-21"),
        )


async def test_two_officers_resolving_one_verdict_at_once_record_one_resolution(
    make_database: DatabaseFactory, packs: RulePacks, feed: Any
) -> None:
    oversight, facts, db = await oversight_on(make_database, packs, feed)
    finding = march_finding(await evaluated(facts, packs, "2026-04-15", at("2026-04-20")))
    # Two processes: each runner has a cache of its own, so neither knows the other's commit.
    other = Oversight(CommandRunner(SqlUnitStore(db, translate), KEYRING), facts, packs)

    outcomes = await asyncio.gather(
        oversight.resolve_verdict(resolve(finding.verdict_id), officer("2026-04-20")),
        other.resolve_verdict(
            resolve(finding.verdict_id, command_id="resolve-2", resolved_by="officer-2"),
            officer("2026-04-20"),
        ),
        return_exceptions=True,
    )

    recorded = [o for o in outcomes if not isinstance(o, BaseException)]
    refusals = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(recorded) == 1 and recorded[0].recorded
    assert [type(r) for r in refusals] == [VerdictMustBeResolvedOnce]
    assert await consumed_back(db, feed) == ["continuum.compliance.VerdictResolved.v1"]


async def test_an_approved_leave_suspends_the_monthly_minimum_for_its_months(
    make_database: DatabaseFactory, packs: RulePacks, feed: Any
) -> None:
    oversight, facts, db = await oversight_on(make_database, packs, feed)
    before = await evaluated(facts, packs, "2026-07-01", at("2026-07-01"))
    may = [v for v in before.verdicts if v.rule_id == MONTHLY_MINIMUM and v.on.month in (5, 6)]
    assert len(may) == 2

    first = await oversight.record_approved_leave(leave(), officer("2026-07-01"))
    retry = await oversight.record_approved_leave(leave(), officer("2026-07-02"))

    assert first.recorded and not retry.recorded and retry.answer == first.answer
    with pytest.raises(LeavesMustNotOverlap, match="from 2026-05-01 to 2026-06-30"):
        await oversight.record_approved_leave(
            leave(command_id="leave-2", start="2026-04-20", end="2026-05-10"),
            officer("2026-07-02"),
        )
    assert await consumed_back(db, feed) == ["continuum.compliance.LeaveApproved.v1"]
    after = await evaluated(facts, packs, "2026-07-01", at("2026-07-03"))
    assert [
        v for v in after.verdicts if v.rule_id == MONTHLY_MINIMUM and v.on.month in (5, 6)
    ] == []
    may_outcomes = [
        o
        for o in after.outcomes
        if o.rule_id == MONTHLY_MINIMUM and o.window is not None and o.window.start.month == 5
    ]
    assert [o.status for o in may_outcomes] == ["not_applicable"]
    # March and April are judged in full.
    assert {v.on.month for v in after.verdicts if v.rule_id == MONTHLY_MINIMUM} == {3, 4}


async def test_a_leave_of_a_supervisee_compliance_never_heard_of_is_not_found(
    make_database: DatabaseFactory, packs: RulePacks, feed: Any
) -> None:
    oversight, _, db = await oversight_on(make_database, packs, feed)

    with pytest.raises(UnknownSupervisee):
        await oversight.record_approved_leave(
            leave(supervisee_id="see-nobody"), officer("2026-07-01")
        )
    assert await published(db) == []
