"""The projector behind the real consumer runtime and a real Kafka-protocol broker, on each
storage backend: an event it cannot apply makes the views it concerns say so, naming it, until a
replay after a fix applies it, but a forgery is refused without marking anything; a log read
from the start is applied in batches, each event once."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from compliance.adapters.read_model import MIGRATIONS, Projector, SqlProjectedFacts, Touched
from compliance.application.queries import View, supervisee_hours
from compliance.domain.hours import HoursSummary
from compliance.domain.record import UnknownSupervisee
from compliance.entrypoints.consumers import TOPICS, subscription
from conftest import DatabaseFactory
from contracts import events as ev
from contracts.rulepacks.loader import rule_packs
from contracts.topics import SUPERVISION_EVENTS, dead_letter_topic
from infra.db import Database
from infra.eventstore import EventMetadata, OutboxMessage
from infra.messaging.admin import ensure_topics
from infra.messaging.authenticity import EventKeyring, EventSigner
from infra.messaging.broker import EmbeddedBroker
from infra.messaging.cloudevents import encode
from infra.messaging.consumer import BatchSettings, RetryPolicy, Subscription

pytestmark = pytest.mark.integration

# The boards' rules the hours are counted by.
PACKS = rule_packs()

D = dt.date.fromisoformat
NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
FAST_GROUP: dict[str, Any] = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300}
# The producers' event keys: what they sign with, what the projector checks against.
KEYS = EventKeyring.generate(topic.source or "" for topic in TOPICS)
SIGNER = KEYS.signer()


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), tzinfo=dt.UTC)


def outgoing(
    event: ev.EventContract,
    recorded_at: dt.datetime,
    *,
    event_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        event_id=event_id or uuid.uuid4(),
        topic=event.topic,
        key=event.key(),
        ce_type=event.ce_type(),
        source=SUPERVISION_EVENTS.source or "",
        subject=event.key(),
        occurred_at=recorded_at,
        data=data if data is not None else event.model_dump(mode="json"),
        metadata=EventMetadata(correlation_id="compliance-consumer-test"),
    )


async def publish(
    bootstrap: str, *messages: OutboxMessage, signer: EventSigner | None = SIGNER
) -> None:
    """Puts the messages on their topics, signed by `signer` (None: as a forger would)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for message in messages:
            key, value, headers = encode(message, signer)
            await producer.send_and_wait(message.topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


def logged(session_id: str, supervisee: str, day: str, minutes: int = 60) -> ev.SessionLogged:
    return ev.SessionLogged(
        session_id=session_id,
        kind="clinical",
        format="individual",
        modality="in_person",
        date=D(day),
        start_time=dt.time(10),
        minutes=minutes,
        supervisor_id="sup-c",
        supervisee_ids=(supervisee,),
        site_id="site-a",
        techniques=(),
        focus=(),
    )


async def eventually(
    probe: Callable[[], Awaitable[Any]], done: Callable[[Any], bool], within: float = 30
) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"still {value!r} after {within} s")
        await asyncio.sleep(0.1)


@pytest.fixture
async def db(make_database: DatabaseFactory) -> Database:
    return await make_database(MIGRATIONS)


@pytest.fixture
async def consuming(
    kafka: EmbeddedBroker, db: Database
) -> AsyncIterator[Callable[..., Awaitable[list[Touched]]]]:
    """Starts the projector's subscription in a consumer group of its own; returns what each
    batch touched, as the projector reported it."""
    group = f"test.compliance.{uuid.uuid4().hex[:10]}"
    await asyncio.to_thread(
        ensure_topics, kafka.bootstrap_servers, [*TOPICS, dead_letter_topic(group)]
    )
    broker = KafkaBroker(kafka.bootstrap_servers, graceful_timeout=2.0)
    batches: list[Touched] = []
    # The broker holds its subscribers weakly: the subscription must stay referenced.
    running: list[Subscription] = []

    async def noted(conn: Any, touched: Touched) -> None:
        batches.append(touched)

    async def start(**options: Any) -> list[Touched]:
        projecting = subscription(
            broker,
            db,
            Projector(after_apply=noted),
            group,
            verifier=KEYS.verifier(),
            retry=RetryPolicy(attempts=2, first_backoff=0.05, max_backoff=0.2),
            **FAST_GROUP,
            **options,
        )
        await broker.start()
        running.append(projecting)
        return batches

    yield start
    await broker.stop()


async def test_a_void_that_cannot_be_applied_makes_the_supervisees_view_say_so_until_replayed(
    kafka: EmbeddedBroker, db: Database, consuming: Callable[..., Awaitable[list[Touched]]]
) -> None:
    see = f"see-{uuid.uuid4().hex[:8]}"
    await consuming()
    void = ev.SessionVoided(
        session_id=f"{see}-s1",
        supervisee_ids=(see,),
        date=D("2026-03-02"),
        reason="logged twice",
        voided_by="sup-c",
    )
    broken = void.model_dump(mode="json")
    del broken["reason"]  # a producer's bug: the void cannot be read by its contract
    void_id = uuid.uuid4()
    await publish(
        kafka.bootstrap_servers,
        outgoing(logged(f"{see}-s1", see, "2026-03-02"), at("2026-03-02")),
        outgoing(void, at("2026-04-12"), event_id=void_id, data=broken),
        outgoing(logged(f"{see}-s2", see, "2026-03-09", 45), at("2026-03-09")),
    )
    facts = SqlProjectedFacts(db)

    async def hours() -> View[HoursSummary] | None:
        try:
            return await supervisee_hours(facts, PACKS, see, D("2026-03-31"), NOW)
        except UnknownSupervisee:
            return None  # nothing applied yet

    lacking = await eventually(
        hours, lambda v: v is not None and len(v.shown.sessions) == 2 and not v.complete
    )

    (unapplied,) = lacking.unapplied
    assert unapplied.event_id == str(void_id)
    assert unapplied.event_type == ev.SessionVoided.ce_type()
    assert "reason" in unapplied.reason
    # The figures as far as they go: the session the void was meant for still counts.
    assert lacking.shown.total_minutes == 105

    # The producer fixed and the log replayed: the same event, now readable.
    await publish(kafka.bootstrap_servers, outgoing(void, at("2026-04-12"), event_id=void_id))

    whole = await eventually(hours, lambda v: v.complete)
    assert whole.shown.total_minutes == 45
    assert [s.session_id for s in whole.shown.excluded] == [f"{see}-s1"]


async def test_a_forged_event_is_neither_applied_nor_marks_the_supervisees_view_incomplete(
    kafka: EmbeddedBroker, db: Database, consuming: Callable[..., Awaitable[list[Touched]]]
) -> None:
    see = f"see-{uuid.uuid4().hex[:8]}"
    await consuming()
    forged_session = outgoing(logged(f"{see}-forged", see, "2026-03-05", 600), at("2026-03-05"))
    forged_void = outgoing(
        ev.SessionVoided(
            session_id=f"{see}-s1",
            supervisee_ids=(see,),
            date=D("2026-03-02"),
            reason="logged twice",
            voided_by="sup-c",
        ),
        at("2026-04-12"),
        data={"supervisee_ids": [see]},  # unreadable too: it would mark the view if believed
    )
    stranger = EventKeyring.generate([SUPERVISION_EVENTS.source or ""], generation=9).signer()
    genuine = outgoing(logged(f"{see}-s1", see, "2026-03-02"), at("2026-03-02"))
    later = outgoing(logged(f"{see}-s2", see, "2026-03-09", 45), at("2026-03-09"))

    await publish(kafka.bootstrap_servers, genuine)
    await publish(kafka.bootstrap_servers, forged_session, signer=None)
    await publish(kafka.bootstrap_servers, forged_void, signer=stranger)
    await publish(kafka.bootstrap_servers, later)
    facts = SqlProjectedFacts(db)

    async def hours() -> View[HoursSummary] | None:
        try:
            return await supervisee_hours(facts, PACKS, see, D("2026-03-31"), NOW)
        except UnknownSupervisee:
            return None

    view = await eventually(hours, lambda v: v is not None and len(v.shown.sessions) == 2)

    assert view.complete and view.unapplied == ()
    assert view.shown.total_minutes == 105
    assert {s.session_id for s in view.shown.sessions} == {f"{see}-s1", f"{see}-s2"}


async def test_a_log_read_from_the_start_is_applied_in_batches_each_event_once(
    kafka: EmbeddedBroker, db: Database, consuming: Callable[..., Awaitable[list[Touched]]]
) -> None:
    supervisees = [f"see-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    sessions = [
        outgoing(logged(f"{see}-{n}", see, "2026-03-02", 30), at("2026-03-02"))
        for n in range(60)
        for see in supervisees
    ]
    await publish(kafka.bootstrap_servers, *sessions, sessions[0], sessions[1])  # two twice
    batches = await consuming(batching=BatchSettings(batch_max_records=50, batch_wait_ms=50))
    facts = SqlProjectedFacts(db)

    async def totals() -> list[int]:
        found = []
        for see in supervisees:
            try:
                view = await supervisee_hours(facts, PACKS, see, D("2026-03-31"), NOW)
            except UnknownSupervisee:
                return []
            found.append(view.shown.total_minutes)
        return found

    await eventually(totals, lambda t: t == [1800, 1800, 1800])
    await asyncio.sleep(0.5)  # room for a wrongful second application to show up
    assert await totals() == [1800, 1800, 1800]
    assert set().union(*(b.supervisees for b in batches)) >= set(supervisees)
    assert max(len(b.supervisees) for b in batches) > 1  # several events in one transaction
