"""Publisher and consumer runtime against a real broker and a real database: each event is applied
once, poison messages go to the dead-letter topic, offsets move only after the transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import pytest
from faststream.kafka import KafkaBroker, KafkaMessage, TopicPartition
from kafka import KafkaProducer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, get_current_span
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.events import SessionLogged, SessionVoided
from contracts.topics import Topic, dead_letter_topic
from infra.db import Database, Migration
from infra.eventstore.model import EventMetadata, OutboxMessage
from infra.messaging.admin import ensure_topics
from infra.messaging.authenticity import (
    EventKeyring,
    EventSigner,
    EventVerifier,
    ProducerKeysFile,
    key_set_document,
)
from infra.messaging.broker import EmbeddedBroker
from infra.messaging.cloudevents import IncomingEvent, MalformedMessage, encode
from infra.messaging.consumer import (
    BatchSettings,
    Handler,
    KafkaRecord,
    PermanentError,
    RetryPolicy,
    Subscription,
)
from infra.messaging.publisher import KafkaPublisher, PublishError
from infra.redaction import describe, redacted_traceback

pytestmark = pytest.mark.integration

THING_HAPPENED = "continuum.test.ThingHappened.v1"
TESTS_SOURCE = "/continuum/tests"
OTHER_SOURCE = "/continuum/other"
OTHER_THING = "continuum.test.OtherThing.v1"
# Short sessions make Tansu settle a consumer group in about a second instead of five.
FAST_GROUP: dict[str, Any] = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300}
QUICK_RETRIES = RetryPolicy(attempts=3, first_backoff=0.05, max_backoff=0.2)


def _create_handled(conn: Connection) -> None:
    conn.execute(text("CREATE TABLE handled (event_id VARCHAR(36) NOT NULL, n INTEGER NOT NULL)"))


HANDLED_TABLE = Migration("messaging_tests", 1, "what the test handler applied", _create_handled)


@dataclass
class Recorder:
    """A handler that applies an event by writing it to `handled` in the consumer's transaction;
    `calls` counts every invocation, committed or not."""

    calls: list[IncomingEvent] = field(default_factory=list)

    async def __call__(self, conn: AsyncConnection, event: IncomingEvent) -> None:
        self.calls.append(event)
        await conn.execute(
            text("INSERT INTO handled (event_id, n) VALUES (:event_id, :n)"),
            {"event_id": str(event.event_id), "n": event.data["n"]},
        )


async def handled(db: Database) -> list[tuple[str, int]]:
    async with db.read() as conn:
        rows = await conn.execute(text("SELECT event_id, n FROM handled"))
        return [(row.event_id, row.n) for row in rows]


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not met within {within}s")
        await asyncio.sleep(0.05)


async def handled_count(db: Database, expected: int, within: float = 20.0) -> None:
    async def reached() -> bool:
        return len(await handled(db)) >= expected

    await eventually(reached, within)


@dataclass(frozen=True)
class Received:
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]


async def read_topic(
    broker: KafkaBroker, topic: str, *, expected: int, within: float = 15.0
) -> list[Received]:
    """Partition 0 from the start, without a consumer group (no join to wait for): until
    `expected` messages arrived or `within` seconds passed, then briefly for any extra ones."""
    subscriber = broker.subscriber(
        partitions=[TopicPartition(topic, 0)], auto_offset_reset="earliest", persistent=False
    )
    await subscriber.start()
    try:
        messages: list[KafkaMessage] = []
        deadline = time.monotonic() + within
        while len(messages) < expected and time.monotonic() < deadline:
            if (message := await subscriber.get_one(timeout=0.5)) is not None:
                messages.append(message)
        while (extra := await subscriber.get_one(timeout=0.5)) is not None:
            messages.append(extra)
        return [_received(message) for message in messages]
    finally:
        await subscriber.stop()


def _received(message: KafkaMessage) -> Received:
    record = message.raw_message
    assert not isinstance(record, tuple)  # not a batch
    return Received(record.key, record.value, dict(message.headers))


def outbox(
    topic: Topic,
    key: str = "thing-1",
    n: int = 0,
    *,
    ce_type: str = THING_HAPPENED,
    data: dict[str, Any] | None = None,
    traceparent: str | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        event_id=uuid.uuid4(),
        topic=topic.name,
        key=key,
        ce_type=ce_type,
        source=topic.source or "",
        subject=f"thing/{key}",
        occurred_at=dt.datetime.now(dt.UTC),
        data={"n": n} if data is None else data,
        metadata=EventMetadata(correlation_id=f"corr-{n}", traceparent=traceparent),
    )


@pytest.fixture
async def db(make_database: Callable[..., Awaitable[Database]]) -> Database:
    """A migrated database with the test's `handled` table, on each storage backend."""
    return await make_database([HANDLED_TABLE])


@pytest.fixture
async def publisher(bootstrap: str, event_keys: EventKeyring) -> AsyncIterator[KafkaPublisher]:
    async with KafkaPublisher(bootstrap, timeout=10, signer=event_keys.signer()) as started:
        yield started


@dataclass
class Setup:
    topic: Topic
    group: str
    dead_letters: Topic
    # Checks what the subscription consumes against the test producers' keys.
    verifier: EventVerifier | None = None


@pytest.fixture
async def setup(
    bootstrap: str,
    unique: Callable[[str], str],
    make_topic: Callable[..., Awaitable[Topic]],
    event_keys: EventKeyring,
) -> Setup:
    """A fresh topic, consumer group, and that group's dead-letter topic; the subscription
    checks what it consumes against the test producers' keys."""
    group = unique("group")
    topic = await make_topic("events")
    dead_letters = dead_letter_topic(group)
    await asyncio.to_thread(ensure_topics, bootstrap, [dead_letters])
    return Setup(topic, group, dead_letters, event_keys.verifier())


# The broker holds its subscribers weakly: a test's subscriptions stay referenced until it ends.
_RUNNING: list[Subscription] = []


@pytest.fixture(autouse=True)
def _forget_subscriptions() -> Iterator[None]:
    yield
    _RUNNING.clear()


async def consume(
    broker: KafkaBroker,
    db: Database,
    setup: Setup,
    handlers: dict[str, Handler],
    **options: Any,
) -> Subscription:
    options.setdefault("retry", QUICK_RETRIES)
    subscription = Subscription(
        broker,
        db,
        setup.group,
        [setup.topic],
        handlers,
        verifier=setup.verifier,
        **FAST_GROUP,
        **options,
    )
    _RUNNING.append(subscription)
    await broker.start()
    return subscription


async def test_published_events_are_handled_once_each_in_order_per_key(
    kafka_broker: KafkaBroker,
    db: Database,
    publisher: KafkaPublisher,
    bootstrap: str,
    make_topic: Callable[..., Awaitable[Topic]],
    unique: Callable[[str], str],
    event_keys: EventKeyring,
) -> None:
    topic = await make_topic("events", partitions=3)
    group = unique("group")
    await asyncio.to_thread(ensure_topics, bootstrap, [dead_letter_topic(group)])
    recorder = Recorder()
    setup = Setup(topic, group, dead_letter_topic(group), event_keys.verifier())
    await consume(kafka_broker, db, setup, {THING_HAPPENED: recorder})
    messages = [outbox(topic, key, n) for n in range(4) for key in ("a", "b", "c")]

    await publisher.publish(messages)

    await handled_count(db, len(messages))
    await asyncio.sleep(0.3)  # room for a wrongful second delivery to show up
    assert sorted(await handled(db)) == sorted((str(m.event_id), m.data["n"]) for m in messages)
    for key in ("a", "b", "c"):
        assert [e.data["n"] for e in recorder.calls if e.key == key] == [0, 1, 2, 3]


async def test_a_message_delivered_twice_is_applied_once(
    kafka_broker: KafkaBroker, db: Database, publisher: KafkaPublisher, setup: Setup
) -> None:
    recorder = Recorder()
    await consume(kafka_broker, db, setup, {THING_HAPPENED: recorder})
    twice, after = outbox(setup.topic, n=1), outbox(setup.topic, n=2)

    await publisher.publish([twice])
    await publisher.publish([twice, after])  # the relay re-publishing after a crash

    await handled_count(db, 2)
    rows = sorted(await handled(db), key=lambda row: row[1])
    assert rows == [(str(twice.event_id), 1), (str(after.event_id), 2)]
    assert [e.data["n"] for e in recorder.calls] == [1, 2]


def _produce(
    bootstrap: str, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        producer.send(topic, key=key, value=value, headers=headers).get(timeout=10)
    finally:
        producer.close()


def _produce_raw(
    bootstrap: str, topic: str, headers: list[tuple[str, bytes]], signer: EventSigner | None = None
) -> None:
    """A message that is not a CloudEvent (a producer's bug when `signer` signs it)."""
    key, value = b"thing-1", b"{broken"
    if signer is not None:
        headers = headers + signer.signature_headers(TESTS_SOURCE, key, value, headers)
    _produce(bootstrap, topic, key, value, headers)


async def test_a_malformed_message_is_dead_lettered_with_its_reason_and_the_next_is_handled(
    kafka_broker: KafkaBroker,
    db: Database,
    publisher: KafkaPublisher,
    setup: Setup,
    bootstrap: str,
) -> None:
    recorder = Recorder()
    await consume(kafka_broker, db, setup, {THING_HAPPENED: recorder})
    # Not even UTF-8 in a CloudEvents header: it must still reach the dead-letter topic.
    headers = [("ce_specversion", b"1.0"), ("ce_id", b"\xff\xfe"), ("x-origin", b"legacy")]
    await asyncio.to_thread(_produce_raw, bootstrap, setup.topic.name, headers)
    good = outbox(setup.topic, n=7)

    await publisher.publish([good])

    await handled_count(db, 1)
    assert await handled(db) == [(str(good.event_id), 7)]
    [dead] = await read_topic(kafka_broker, setup.dead_letters.name, expected=1)
    assert dead.value == b"{broken"
    assert dead.key == b"thing-1"
    assert "invalid CloudEvent" in dead.headers["dlt.reason"]
    assert dead.headers["dlt.error.type"] == "infra.messaging.cloudevents.MalformedMessage"
    assert dead.headers["dlt.original.topic"] == setup.topic.name
    assert dead.headers["dlt.original.partition"] == "0"
    assert dead.headers["dlt.original.offset"] == "0"
    assert dead.headers["dlt.consumer.group"] == setup.group
    assert dead.headers["x-origin"] == "legacy"
    # Not its producer's either: nothing it names may be marked as lacking an event.
    assert dead.headers["dlt.inauthentic"].startswith("unsigned")


async def _reject(conn: AsyncConnection, event: IncomingEvent) -> None:
    if event.data["n"] == 1:
        raise PermanentError("minutes must be positive")
    await Recorder()(conn, event)


async def _validate_contract(conn: AsyncConnection, event: IncomingEvent) -> None:
    event.contract()  # SessionLogged data without its fields: a pydantic ValidationError
    await Recorder()(conn, event)


@pytest.mark.parametrize(
    ("ce_type", "handler", "error_type"),
    [
        (THING_HAPPENED, _reject, "infra.messaging.consumer.PermanentError"),
        (
            SessionLogged.ce_type(),
            _validate_contract,
            "pydantic_core._pydantic_core.ValidationError",
        ),
    ],
    ids=["permanent-error", "invalid-contract-data"],
)
async def test_a_permanent_failure_is_dead_lettered_without_retries_and_the_next_is_handled(
    kafka_broker: KafkaBroker,
    db: Database,
    publisher: KafkaPublisher,
    setup: Setup,
    ce_type: str,
    handler: Handler,
    error_type: str,
) -> None:
    calls: list[int] = []

    def counting(inner: Handler) -> Handler:
        async def count(conn: AsyncConnection, event: IncomingEvent) -> None:
            calls.append(event.data["n"])
            await inner(conn, event)

        return count

    await consume(
        kafka_broker, db, setup, {ce_type: counting(handler), OTHER_THING: counting(Recorder())}
    )
    bad = outbox(setup.topic, n=1, ce_type=ce_type)
    good = outbox(setup.topic, n=2, ce_type=OTHER_THING)

    await publisher.publish([bad, good])

    await handled_count(db, 1)
    assert await handled(db) == [(str(good.event_id), 2)]
    assert calls == [1, 2]
    [dead] = await read_topic(kafka_broker, setup.dead_letters.name, expected=1)
    assert dead.headers["dlt.error.type"] == error_type
    assert dead.headers["dlt.attempts"] == "1"
    assert dead.headers["ce_id"] == str(bad.event_id)
    assert dead.key == b"thing-1"


async def test_a_transient_failure_is_retried_and_the_event_applied_once(
    kafka_broker: KafkaBroker, db: Database, publisher: KafkaPublisher, setup: Setup
) -> None:
    recorder = Recorder()

    async def flaky(conn: AsyncConnection, event: IncomingEvent) -> None:
        await recorder(conn, event)  # written, then rolled back with the failed attempt
        if len(recorder.calls) < 3:
            raise ConnectionResetError("read model briefly unavailable")

    await consume(kafka_broker, db, setup, {THING_HAPPENED: flaky})
    message = outbox(setup.topic, n=5)

    await publisher.publish([message])

    await handled_count(db, 1)
    assert len(recorder.calls) == 3
    assert await handled(db) == [(str(message.event_id), 5)]
    assert await read_topic(kafka_broker, setup.dead_letters.name, expected=0) == []


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_its_retries(
    kafka_broker: KafkaBroker, db: Database, publisher: KafkaPublisher, setup: Setup
) -> None:
    recorder = Recorder()

    async def failing(conn: AsyncConnection, event: IncomingEvent) -> None:
        if event.data["n"] == 1:
            raise RuntimeError("projection bug")
        await recorder(conn, event)

    await consume(kafka_broker, db, setup, {THING_HAPPENED: failing})
    bad, good = outbox(setup.topic, n=1), outbox(setup.topic, n=2)

    await publisher.publish([bad, good])

    await handled_count(db, 1)
    [dead] = await read_topic(kafka_broker, setup.dead_letters.name, expected=1)
    assert dead.headers["dlt.attempts"] == str(QUICK_RETRIES.attempts)
    assert dead.headers["dlt.error.type"] == "builtins.RuntimeError"
    # Named by its kind: a library's message may quote the event's values.
    assert dead.headers["dlt.reason"] == "RuntimeError"
    assert await handled(db) == [(str(good.event_id), 2)]


# What a person typed, in an event a consumer cannot apply: it must reach neither a log line,
# nor a dead letter's headers, nor a span; only the dead letter's body (the copy to replay).
TYPED = "the supervisee disclosed a relapse to the supervisor"


async def _quote_the_event(conn: AsyncConnection, event: IncomingEvent) -> None:
    raise ValueError(f"cannot apply a void whose reason is {event.data['reason']!r}")


async def _read_by_its_contract(conn: AsyncConnection, event: IncomingEvent) -> None:
    event.contract()  # the date is not a date: pydantic's error repeats the whole input


async def _store_it_badly(conn: AsyncConnection, event: IncomingEvent) -> None:
    # NOT NULL refused, on every backend, in a statement whose parameters hold the text.
    await conn.execute(
        text("INSERT INTO handled (event_id, n) VALUES (:event_id, :n)"),
        {"event_id": event.data["reason"][:36], "n": None},
    )


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (_quote_the_event, "ValueError"),
        (_read_by_its_contract, "ValidationError: date: date_from_datetime_parsing"),
        (_store_it_badly, "IntegrityError"),
    ],
    ids=["a-message-quoting-it", "invalid-contract-data", "a-statement-holding-it"],
)
async def test_a_dead_letter_and_the_logs_name_the_failure_never_what_the_event_holds(
    kafka_broker: KafkaBroker,
    db: Database,
    publisher: KafkaPublisher,
    setup: Setup,
    caplog: pytest.LogCaptureFixture,
    handler: Handler,
    reason: str,
) -> None:
    caplog.set_level(logging.INFO)  # what a service logs
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    void_type = SessionVoided.ce_type()
    await consume(kafka_broker, db, setup, {void_type: handler}, tracer=provider.get_tracer("t"))
    void = outbox(
        setup.topic,
        ce_type=void_type,
        data={"session_id": "s-1", "supervisee_ids": ["see-1"], "date": "soon", "reason": TYPED},
    )

    await publisher.publish([void])

    [dead] = await read_topic(kafka_broker, setup.dead_letters.name, expected=1)
    assert dead.headers["dlt.reason"].startswith(reason)
    assert dead.headers["dlt.event.id"] == str(void.event_id)
    assert dead.headers["dlt.event.type"] == void_type
    assert all(TYPED[:20] not in value for value in dead.headers.values())
    assert TYPED.encode() in (dead.value or b"")  # the original, kept to be replayed
    assert "dead-lettered" in caplog.text and str(void.event_id) in caplog.text
    assert TYPED[:20] not in caplog.text
    recorded = [
        (event.attributes, span.status.description)
        for span in spans.get_finished_spans()
        for event in span.events
    ]
    assert recorded and TYPED[:20] not in repr(recorded)


async def test_a_database_error_hides_its_parameters_and_is_described_by_its_kind(
    db: Database,
) -> None:
    with pytest.raises(IntegrityError) as raised:
        async with db.transaction() as conn:
            await conn.execute(
                text("INSERT INTO handled (event_id, n) VALUES (:event_id, :n)"),
                {"event_id": TYPED[:36], "n": None},
            )

    assert "[SQL parameters hidden" in str(raised.value)
    # PostgreSQL's own detail still shows the row ("Failing row contains ..."): what is said
    # of the error outside the process is its kind.
    assert describe(raised.value).startswith("IntegrityError")
    assert TYPED[:20] not in describe(raised.value)
    assert TYPED[:20] not in redacted_traceback(raised.value)


class FlakyDatabase:
    """The real database, except that the first transactions cannot connect."""

    def __init__(self, db: Database, failures: int) -> None:
        self._db = db
        self.failures = failures

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("database unreachable")
        return self._db.transaction()


async def test_a_message_is_delivered_again_not_dead_lettered_while_the_database_is_down(
    kafka_broker: KafkaBroker, db: Database, publisher: KafkaPublisher, setup: Setup
) -> None:
    recorder = Recorder()
    flaky = FlakyDatabase(db, failures=QUICK_RETRIES.attempts + 1)  # more than the retries
    await consume(kafka_broker, cast(Database, flaky), setup, {THING_HAPPENED: recorder})
    message = outbox(setup.topic, n=4)

    await publisher.publish([message])

    await handled_count(db, 1)
    assert flaky.failures == 0
    assert await handled(db) == [(str(message.event_id), 4)]
    assert await read_topic(kafka_broker, setup.dead_letters.name, expected=0) == []


async def test_an_event_type_without_a_handler_is_skipped_not_dead_lettered(
    kafka_broker: KafkaBroker, db: Database, publisher: KafkaPublisher, setup: Setup
) -> None:
    recorder = Recorder()
    await consume(kafka_broker, db, setup, {THING_HAPPENED: recorder})
    other, mine = outbox(setup.topic, n=1, ce_type=OTHER_THING), outbox(setup.topic, n=2)

    await publisher.publish([other, mine])

    await handled_count(db, 1)
    assert [e.event_id for e in recorder.calls] == [mine.event_id]
    assert await read_topic(kafka_broker, setup.dead_letters.name, expected=0) == []


async def test_the_consumer_span_continues_the_producers_trace(
    kafka_broker: KafkaBroker, db: Database, publisher: KafkaPublisher, setup: Setup
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    seen_trace_ids: list[int] = []

    async def handler(conn: AsyncConnection, event: IncomingEvent) -> None:
        seen_trace_ids.append(get_current_span().get_span_context().trace_id)
        await Recorder()(conn, event)

    await consume(
        kafka_broker, db, setup, {THING_HAPPENED: handler}, tracer=provider.get_tracer("test")
    )
    message = outbox(setup.topic, traceparent=f"00-{trace_id}-{parent_id}-01")

    await publisher.publish([message])

    await handled_count(db, 1)
    [span] = exporter.get_finished_spans()
    assert span.kind is SpanKind.CONSUMER
    assert span.name == f"process {setup.topic.name}"
    assert span.context is not None and span.parent is not None
    assert span.context.trace_id == int(trace_id, 16)
    assert span.parent.span_id == int(parent_id, 16)
    assert span.attributes is not None
    assert span.attributes["cloudevents.event_id"] == str(message.event_id)
    assert span.attributes["messaging.consumer.group.name"] == setup.group
    assert seen_trace_ids == [int(trace_id, 16)]


async def test_a_message_whose_transaction_never_committed_is_delivered_again_to_the_group(
    bootstrap: str, db: Database, publisher: KafkaPublisher, setup: Setup
) -> None:
    entered = asyncio.Event()

    async def crashes_mid_transaction(conn: AsyncConnection, event: IncomingEvent) -> None:
        await Recorder()(conn, event)
        entered.set()
        await asyncio.Event().wait()  # the process dies here, before commit and ack

    first = KafkaBroker(bootstrap, graceful_timeout=0.5, client_id="first-consumer")
    await consume(first, db, setup, {THING_HAPPENED: crashes_mid_transaction})
    message = outbox(setup.topic, n=3)
    await publisher.publish([message])
    await asyncio.wait_for(entered.wait(), timeout=20)
    await first.stop()  # cancels the handler: transaction rolled back, offset not committed
    assert await handled(db) == []

    second = KafkaBroker(bootstrap, graceful_timeout=2.0, client_id="second-consumer")
    recorder = Recorder()
    try:
        await consume(second, db, setup, {THING_HAPPENED: recorder})
        await handled_count(db, 1)
    finally:
        await second.stop()
    assert await handled(db) == [(str(message.event_id), 3)]


async def test_publishing_raises_when_the_broker_is_gone(tmp_path: Any) -> None:
    with EmbeddedBroker(log_file=tmp_path / "tansu.log", stop_timeout=1) as broker:
        topic = Topic("test.unreachable", 1, 60_000, "test", producer="tests")
        await asyncio.to_thread(ensure_topics, broker.bootstrap_servers, [topic])
        publisher = KafkaPublisher(broker.bootstrap_servers, timeout=2)
        await publisher.start()
        await publisher.publish([outbox(topic)])  # reachable: acknowledged
        broker.stop()
        started = time.monotonic()
        try:
            with pytest.raises(PublishError):
                await publisher.publish([outbox(topic, n=1)])
        finally:
            await publisher.stop()
        assert time.monotonic() - started < 10


@dataclass
class BatchRecorder:
    """A batch handler writing every event of a batch to `handled` in the batch's transaction;
    `batches` keeps what each call received, committed or not."""

    batches: list[list[IncomingEvent]] = field(default_factory=list)
    fail_on: int | None = None

    async def __call__(self, conn: AsyncConnection, events: Sequence[IncomingEvent]) -> None:
        self.batches.append(list(events))
        for event in events:
            if event.data["n"] == self.fail_on:
                raise RuntimeError(f"cannot apply {event.data['n']} with the others")
            await Recorder()(conn, event)


async def test_a_batch_handler_applies_what_was_fetched_together_and_each_event_once(
    kafka_broker: KafkaBroker, db: Database, publisher: KafkaPublisher, setup: Setup
) -> None:
    batches = BatchRecorder()
    messages = [outbox(setup.topic, n=n) for n in range(40)]
    await publisher.publish([*messages, messages[3]])  # one published twice
    await consume(
        kafka_broker,
        db,
        setup,
        {THING_HAPPENED: Recorder()},
        batch_handler=batches,
        batching=BatchSettings(batch_max_records=16, batch_wait_ms=50),
    )

    await handled_count(db, len(messages))
    await asyncio.sleep(0.3)  # room for a wrongful second delivery to show up
    assert sorted(n for _, n in await handled(db)) == list(range(40))
    assert [e.data["n"] for batch in batches.batches for e in batch] == list(range(40))
    assert max(len(batch) for batch in batches.batches) > 1  # fetched before it started
    assert max(len(batch) for batch in batches.batches) <= 16


async def test_a_failing_batch_is_applied_one_by_one_and_only_the_poison_is_dead_lettered(
    kafka_broker: KafkaBroker,
    db: Database,
    publisher: KafkaPublisher,
    make_topic: Callable[..., Awaitable[Topic]],
    setup: Setup,
) -> None:
    topic = await make_topic("events", partitions=2)
    setup = Setup(topic, setup.group, setup.dead_letters, setup.verifier)
    batches = BatchRecorder(fail_on=5)
    recorder = Recorder()

    async def per_event(conn: AsyncConnection, event: IncomingEvent) -> None:
        if event.data["n"] == 5:
            raise PermanentError("minutes must be positive")
        await recorder(conn, event)

    messages = [outbox(topic, key, n) for n, key in enumerate(["a", "b"] * 5)]
    await publisher.publish(messages)
    await consume(kafka_broker, db, setup, {THING_HAPPENED: per_event}, batch_handler=batches)

    await handled_count(db, 9)
    [dead] = await read_topic(kafka_broker, setup.dead_letters.name, expected=1)
    assert dead.headers["ce_id"] == str(messages[5].event_id)
    assert dead.headers["dlt.reason"] == "minutes must be positive"
    assert sorted(n for _, n in await handled(db)) == [0, 1, 2, 3, 4, 6, 7, 8, 9]
    for key in ("a", "b"):  # each partition's order holds through the fallback
        applied = [e.data["n"] for e in recorder.calls if e.key == key]
        assert applied == sorted(applied)


@dataclass
class DeadLetterLog:
    """A dead-letter hook writing what it was told to `handled` (n = -1), in its transaction."""

    seen: list[tuple[IncomingEvent | None, KafkaRecord, Exception]] = field(default_factory=list)

    async def __call__(
        self,
        conn: AsyncConnection,
        event: IncomingEvent | None,
        record: KafkaRecord,
        error: Exception,
    ) -> None:
        self.seen.append((event, record, error))
        await conn.execute(
            text("INSERT INTO handled (event_id, n) VALUES (:event_id, -1)"),
            {"event_id": str(event.event_id) if event else f"offset-{record.offset}"},
        )


async def test_the_dead_letter_hook_hears_of_every_message_set_aside_before_it_goes(
    kafka_broker: KafkaBroker,
    db: Database,
    publisher: KafkaPublisher,
    setup: Setup,
    bootstrap: str,
    event_keys: EventKeyring,
) -> None:
    hook = DeadLetterLog()
    await consume(kafka_broker, db, setup, {THING_HAPPENED: _reject}, on_dead_letter=hook)
    # The producer's own, malformed: what it names lacks an event.
    headers = [("ce_source", TESTS_SOURCE.encode()), ("x-origin", b"legacy")]
    await asyncio.to_thread(_produce_raw, bootstrap, setup.topic.name, headers, event_keys.signer())
    rejected, good = outbox(setup.topic, n=1), outbox(setup.topic, n=2)

    await publisher.publish([rejected, good])

    await handled_count(db, 3)
    await read_topic(kafka_broker, setup.dead_letters.name, expected=2)
    (malformed, record_0, error_0), (event, record_1, error_1) = hook.seen
    assert malformed is None and record_0.value == b"{broken"
    assert isinstance(error_0, MalformedMessage)
    assert event is not None and event.event_id == rejected.event_id
    assert record_1.offset == 1 and isinstance(error_1, PermanentError)
    assert sorted(await handled(db)) == sorted(
        [("offset-0", -1), (str(rejected.event_id), -1), (str(good.event_id), 2)]
    )


async def test_a_version_the_consumer_cannot_read_of_an_event_it_handles_is_dead_lettered(
    kafka_broker: KafkaBroker, db: Database, publisher: KafkaPublisher, setup: Setup
) -> None:
    recorder = Recorder()
    await consume(kafka_broker, db, setup, {THING_HAPPENED: recorder})
    newer = outbox(setup.topic, n=1, ce_type="continuum.test.ThingHappened.v2")
    mine = outbox(setup.topic, n=2)

    await publisher.publish([newer, mine])

    await handled_count(db, 1)
    [dead] = await read_topic(kafka_broker, setup.dead_letters.name, expected=1)
    assert dead.headers["ce_id"] == str(newer.event_id)
    assert dead.headers["dlt.error.type"] == "contracts.events.base.UnknownEventType"
    assert "cannot read this version" in dead.headers["dlt.reason"]
    assert [e.event_id for e in recorder.calls] == [mine.event_id]


def test_the_batch_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_CONSUMER_BATCH_MAX_RECORDS", "64")
    monkeypatch.setenv("CONTINUUM_CONSUMER_BATCH_WAIT_MS", "20")
    monkeypatch.setenv("CONTINUUM_CONSUMER_FETCH_WAIT_MS", "30")

    assert BatchSettings() == BatchSettings(
        batch_max_records=64, batch_wait_ms=20, fetch_wait_ms=30
    )


def _forged(
    case: str, message: OutboxMessage, keys: EventKeyring
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """The message as a forger would put it on the topic, in each way a forgery can be made."""
    if case == "unsigned":
        return encode(message)
    if case == "altered data":
        key, value, headers = encode(message, keys.signer_for(TESTS_SOURCE))
        return key, value.replace(b'"n": 1', b'"n": 9'), headers
    if case == "signed by another key under the producer's kid":
        return encode(message, EventKeyring.generate([TESTS_SOURCE]).signer())
    if case == "signed by another producer's key":
        return encode(message, EventSigner.of(TESTS_SOURCE, keys.keys[OTHER_SOURCE]))
    if case == "from another source":
        return encode(replace(message, source=OTHER_SOURCE), keys.signer_for(OTHER_SOURCE))
    if case == "signed by an unknown key":
        stranger = EventKeyring.generate([TESTS_SOURCE], generation=99)
        return encode(message, stranger.signer())
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unsigned", "unsigned: no ce_signature and ce_signingkey"),
        ("altered data", "the signature does not match the event"),
        ("signed by another key under the producer's kid", "the signature does not match"),
        ("signed by another producer's key", "signed by a key of another producer than"),
        ("from another source", f"the source is not {TESTS_SOURCE}, the producer of"),
        ("signed by an unknown key", "signed by a key this consumer does not know"),
    ],
)
async def test_a_forged_event_is_dead_lettered_with_its_reason_unheard_and_the_next_applied(
    kafka_broker: KafkaBroker,
    db: Database,
    publisher: KafkaPublisher,
    setup: Setup,
    bootstrap: str,
    event_keys: EventKeyring,
    case: str,
    reason: str,
) -> None:
    recorder, hook = Recorder(), DeadLetterLog()
    await consume(kafka_broker, db, setup, {THING_HAPPENED: recorder}, on_dead_letter=hook)
    forged = outbox(setup.topic, n=1)
    good = outbox(setup.topic, n=2)

    await asyncio.to_thread(
        _produce, bootstrap, setup.topic.name, *_forged(case, forged, event_keys)
    )
    await publisher.publish([good])

    await handled_count(db, 1)
    [dead] = await read_topic(kafka_broker, setup.dead_letters.name, expected=1)
    assert dead.headers["dlt.reason"].startswith(reason)
    assert dead.headers["dlt.error.type"] == "infra.messaging.authenticity.InauthenticEvent"
    assert dead.headers["dlt.event.id"] == str(forged.event_id)
    # Never applied, and never heard of by the hook: a forgery marks nothing as lacking.
    assert await handled(db) == [(str(good.event_id), 2)]
    assert [e.event_id for e in recorder.calls] == [good.event_id]
    assert hook.seen == []


async def test_a_forged_version_the_consumer_cannot_read_is_dead_lettered_as_forged(
    kafka_broker: KafkaBroker,
    db: Database,
    publisher: KafkaPublisher,
    setup: Setup,
    bootstrap: str,
) -> None:
    recorder, hook = Recorder(), DeadLetterLog()
    await consume(kafka_broker, db, setup, {THING_HAPPENED: recorder}, on_dead_letter=hook)
    newer = outbox(setup.topic, n=1, ce_type="continuum.test.ThingHappened.v2")
    good = outbox(setup.topic, n=2)

    await asyncio.to_thread(_produce, bootstrap, setup.topic.name, *encode(newer))
    await publisher.publish([good])

    await handled_count(db, 1)
    [dead] = await read_topic(kafka_broker, setup.dead_letters.name, expected=1)
    assert dead.headers["dlt.error.type"] == "infra.messaging.authenticity.InauthenticEvent"
    assert hook.seen == []


async def test_a_key_added_to_the_key_set_file_is_known_without_a_restart(
    kafka_broker: KafkaBroker,
    db: Database,
    setup: Setup,
    bootstrap: str,
    event_keys: EventKeyring,
    tmp_path: Path,
) -> None:
    current = event_keys.signer_for(TESTS_SOURCE)
    rotated = EventKeyring.generate([TESTS_SOURCE], generation=2)
    keys_file = tmp_path / "event-keys.json"
    keys_file.write_text(json.dumps(key_set_document(event_keys.public_keys())))
    recorder = Recorder()
    setup = replace(setup, verifier=EventVerifier(ProducerKeysFile(keys_file)))
    await consume(kafka_broker, db, setup, {THING_HAPPENED: recorder})
    before, early, after = (outbox(setup.topic, n=n) for n in (1, 2, 3))
    await asyncio.to_thread(_produce, bootstrap, setup.topic.name, *encode(before, current))
    await handled_count(db, 1)
    # Signed by the new key before consumers know it: refused.
    await asyncio.to_thread(_produce, bootstrap, setup.topic.name, *encode(early, rotated.signer()))
    await read_topic(kafka_broker, setup.dead_letters.name, expected=1)

    # Both keys valid at once: the producer moves to the new one.
    keys_file.write_text(
        json.dumps(key_set_document([*event_keys.public_keys(), *rotated.public_keys()]))
    )
    await asyncio.to_thread(_produce, bootstrap, setup.topic.name, *encode(after, rotated.signer()))

    await handled_count(db, 2)
    assert sorted(n for _, n in await handled(db)) == [1, 3]
