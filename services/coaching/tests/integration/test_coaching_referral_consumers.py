"""The referral loop's answers reach coaching on each storage backend: once, in the consumer's
transaction, however often they are delivered."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from coaching.adapters.publishing import translate
from coaching.application.handlers import RECORD, EngagementLookup, get_engagement
from coaching.bootstrap import CONSUMER_GROUP
from coaching.domain import EngagementCommand, OpenEngagement, RaiseConcern, engagement, policy
from coaching.entrypoints.consumers import ACTOR, ReferralConsumer
from conftest import DatabaseFactory
from contracts.events import EventContract, ReferralAccepted, ReferralCompleted
from contracts.topics import REFERRAL_EVENTS
from infra.application import CommandContext
from infra.commands import CommandRunner, SqlUnitStore
from infra.db import Database
from infra.eventstore import EventMetadata, SqlEventStore
from infra.inbox import first_delivery
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import PermanentError
from infra.schema import outbox
from infra.security.crypto import memory_keyring

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 5, 20, 12, tzinfo=dt.UTC)
CTX = CommandContext(now=NOW, metadata=EventMetadata(correlation_id="coach-app", actor="coach-1"))


def incoming(contract: EventContract, event_id: uuid.UUID | None = None) -> IncomingEvent:
    return IncomingEvent(
        event_id=event_id or uuid.uuid4(),
        ce_type=contract.ce_type(),
        source=REFERRAL_EVENTS.source or "",
        subject=f"referral-{contract.key()}",
        key=contract.key(),
        time=NOW,
        data=contract.model_dump(mode="json"),
        metadata=EventMetadata(correlation_id="referral-flow", actor="therapist-1"),
    )


def completed(engagement_id: str, **overrides: Any) -> ReferralCompleted:
    fields: dict[str, Any] = {
        "referral_id": "ref-1",
        "client_id": "client-7f3a",
        "from_service": "coaching",
        "to_service": "therapy",
        "source": "coaching-concern/con-1",
        "origin": policy.engagement_origin(engagement_id),
        "completed_by": "therapist-1",
        "completed_on": dt.date(2026, 5, 15),
        "outcome": "stabilised",
        "feedback": "ready to continue coaching",
        "recommendation": "resume_coaching",
    }
    return ReferralCompleted(**(fields | overrides))


def accepted(**overrides: Any) -> ReferralAccepted:
    fields: dict[str, Any] = {
        "referral_id": "ref-9",
        "client_id": "client-7f3a",
        "site_id": "site-b",
        "from_service": "therapy",
        "to_service": "coaching",
        "accepted_by": "coach-2",
        "accepted_on": dt.date(2026, 5, 18),
        "source": "therapy-case/t-1",
        "origin": None,
    }
    return ReferralAccepted(**(fields | overrides))


class Coaching:
    """The coaching service's store and consumer on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.store = SqlEventStore(db)
        self.runner = CommandRunner(SqlUnitStore(db, translate), memory_keyring())
        self.consumer = ReferralConsumer(self.runner, lambda: NOW)

    async def handle(self, command: EngagementCommand) -> bool:
        return not (await self.runner.run(RECORD, command, CTX)).already_recorded

    async def deliver(self, event: IncomingEvent) -> bool:
        """As the consumer runtime does: inbox and handler in one transaction; False when the
        inbox had the event already."""
        handlers = {
            ReferralCompleted.ce_type(): self.consumer.on_referral_completed,
            ReferralAccepted.ce_type(): self.consumer.on_referral_accepted,
        }
        async with self.db.transaction() as conn:
            if not await first_delivery(conn, CONSUMER_GROUP, event.event_id):
                return False
            await handlers[event.ce_type](conn, event)
        return True

    async def paused_engagement(self, engagement_id: str) -> None:
        opened = OpenEngagement(
            engagement_id=engagement_id,
            client_id="client-7f3a",
            coach_id="coach-1",
            site_id="site-a",
            opened_on=dt.date(2026, 4, 1),
        )
        raised = RaiseConcern(
            engagement_id=engagement_id,
            concern_id="con-1",
            urgency="urgent",
            raised_on=dt.date(2026, 5, 10),
        )
        for command in (opened, raised):
            assert await self.handle(command)

    async def types(self, engagement_id: str) -> list[str]:
        return [e.type for e in await self.store.read(engagement.stream_id(engagement_id))]

    async def published(self) -> list[tuple[str, dict[str, Any]]]:
        async with self.db.read() as conn:
            rows = await conn.execute(select(outbox.c.ce_type, outbox.c.data).order_by(outbox.c.id))
            return [(row.ce_type, dict(row.data)) for row in rows]


@pytest.fixture
async def coaching(make_database: DatabaseFactory) -> Coaching:
    return Coaching(await make_database(()))


async def test_a_completion_recommending_coaching_resumes_the_engagement_once(
    coaching: Coaching,
) -> None:
    await coaching.paused_engagement("eng-1")
    completion = completed("eng-1")

    assert await coaching.deliver(incoming(completion))
    # The same fact again under another event id (the referral service re-published its log).
    assert await coaching.deliver(incoming(completion))

    assert await coaching.types("eng-1") == [
        "EngagementOpened",
        "CoachingConcernRaised",
        "EngagementPaused",
        "ConcernSettled",
        "EngagementResumed",
    ]
    state = await get_engagement(EngagementLookup(engagement_id="eng-1"), coaching.runner)
    assert state.status == "active"
    assert (state.concerns[0].referral_id, state.concerns[0].status) == ("ref-1", "settled")
    resumed = [data for ce_type, data in await coaching.published() if "Resumed" in ce_type]
    assert resumed == [
        {
            "engagement_id": "eng-1",
            "concern_id": "con-1",
            "referral_id": "ref-1",
            "resumed_on": "2026-05-15",
        }
    ]


async def test_the_same_delivery_twice_is_applied_once_through_the_inbox(
    coaching: Coaching,
) -> None:
    await coaching.paused_engagement("eng-1")
    delivery = incoming(completed("eng-1"))

    assert await coaching.deliver(delivery) is True
    assert await coaching.deliver(delivery) is False

    assert (await coaching.types("eng-1")).count("EngagementResumed") == 1


async def test_the_reaction_is_recorded_as_caused_by_the_referral_event(
    coaching: Coaching,
) -> None:
    await coaching.paused_engagement("eng-1")
    delivery = incoming(completed("eng-1"))

    await coaching.deliver(delivery)

    resumed = (await coaching.store.read(engagement.stream_id("eng-1")))[-1]
    assert resumed.metadata.causation_id == str(delivery.event_id)
    assert resumed.metadata.correlation_id == "referral-flow"
    assert resumed.metadata.actor == ACTOR


@pytest.mark.parametrize("recommendation", ["continue_in_therapy", "no_recommendation"])
async def test_a_completion_without_a_resume_recommendation_leaves_it_paused(
    coaching: Coaching, recommendation: str
) -> None:
    await coaching.paused_engagement("eng-1")

    await coaching.deliver(incoming(completed("eng-1", recommendation=recommendation)))
    await coaching.deliver(incoming(completed("eng-1", recommendation=recommendation)))

    assert (await coaching.types("eng-1"))[-1] == "ConcernSettled"
    assert (await coaching.types("eng-1")).count("ConcernSettled") == 1
    state = await get_engagement(EngagementLookup(engagement_id="eng-1"), coaching.runner)
    assert state.status == "paused"
    assert state.concerns[0].recommendation == recommendation


@pytest.mark.parametrize("origin", [None, "therapy-case/t-1", "coaching-engagement/"])
async def test_a_completion_no_engagement_waits_on_changes_nothing(
    coaching: Coaching, origin: str | None
) -> None:
    await coaching.paused_engagement("eng-1")

    assert await coaching.deliver(incoming(completed("eng-1", origin=origin)))

    assert (await coaching.types("eng-1"))[-1] == "EngagementPaused"


async def test_a_completion_for_an_engagement_coaching_does_not_know_is_a_dead_letter(
    coaching: Coaching,
) -> None:
    delivery = incoming(completed("eng-unknown"))

    with pytest.raises(PermanentError, match="EngagementMustExist"):
        await coaching.deliver(delivery)

    # Rolled back with the inbox row: nothing is recorded as applied.
    async with coaching.db.transaction() as conn:
        assert await first_delivery(conn, CONSUMER_GROUP, delivery.event_id)


async def test_an_accepted_referral_to_coaching_opens_one_engagement(coaching: Coaching) -> None:
    acceptance = accepted()

    assert await coaching.deliver(incoming(acceptance))
    assert await coaching.deliver(incoming(acceptance))

    engagement_id = policy.engagement_id_for_referral("ref-9")
    assert await coaching.types(engagement_id) == ["EngagementOpened"]
    state = await get_engagement(EngagementLookup(engagement_id=engagement_id), coaching.runner)
    assert state.status == "active"
    assert state.engagement is not None
    assert state.engagement.model_dump() == {
        "engagement_id": engagement_id,
        "client_id": "client-7f3a",
        "coach_id": "coach-2",
        "site_id": "site-b",
        "opened_on": dt.date(2026, 5, 18),
        "referral_id": "ref-9",
    }
    opened = [data for ce_type, data in await coaching.published() if "Opened" in ce_type]
    assert [data["referral_id"] for data in opened] == ["ref-9"]


@pytest.mark.parametrize("to_service", ["therapy", "consultation", "psychiatry"])
async def test_an_accepted_referral_to_another_service_opens_nothing(
    coaching: Coaching, to_service: str
) -> None:
    assert await coaching.deliver(incoming(accepted(to_service=to_service)))

    assert await coaching.store.read_all() == []


async def test_the_engagement_a_referral_opened_goes_on_like_any_other(
    coaching: Coaching,
) -> None:
    await coaching.deliver(incoming(accepted()))
    engagement_id = policy.engagement_id_for_referral("ref-9")

    concern = RaiseConcern(
        engagement_id=engagement_id, concern_id="con-1", urgency="routine", raised_on=NOW.date()
    )
    assert await coaching.handle(concern)
    await coaching.deliver(incoming(completed(engagement_id, referral_id="ref-10")))

    assert (await coaching.types(engagement_id))[-1] == "EngagementResumed"
