"""The outbox relay against a real database: nothing lost, order per stream kept, replicas safe."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

import pytest

from infra.db import Database
from infra.eventstore import (
    EventMetadata,
    NewEvent,
    OutboxMessage,
    RecordedEvent,
    SqlEventStore,
    StreamAppend,
)
from infra.outbox import OutboxRelay, republish_log

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 14, 15, 0, tzinfo=dt.UTC)
META = EventMetadata(correlation_id="corr-1")


def translate(event: RecordedEvent) -> OutboxMessage | None:
    if event.type == "Private":
        return None
    return OutboxMessage(
        event_id=event.event_id,
        topic="continuum.test.events",
        key=event.stream_id,
        ce_type=f"continuum.test.{event.type}.v1",
        source="/continuum/test",
        subject=event.stream_id,
        occurred_at=event.occurred_at,
        data=event.data,
        metadata=event.metadata,
    )


class RecordingPublisher:
    def __init__(self, delay: float = 0.0) -> None:
        self.sent: list[OutboxMessage] = []
        self.delay = delay

    async def publish(self, messages: Sequence[OutboxMessage]) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.sent.extend(messages)


class BrokerDown:
    def __init__(self) -> None:
        self.calls = 0

    async def publish(self, messages: Sequence[OutboxMessage]) -> None:
        self.calls += 1
        raise ConnectionError("broker unreachable")


async def append(store: SqlEventStore, stream: str, version: int, *types: str) -> None:
    events = [
        NewEvent(type=t, data={"v": version + i}, occurred_at=T0) for i, t in enumerate(types)
    ]
    await store.append([StreamAppend(stream, version, events)], META, outbox=translate)


async def test_committed_events_are_published_once_and_marked(database: Database) -> None:
    store, publisher = SqlEventStore(database), RecordingPublisher()
    await append(store, "s-1", 0, "A", "Private", "B")
    relay = OutboxRelay(database, publisher)

    assert await relay.pending() == 2
    assert await relay.relay_once() == 2
    assert await relay.relay_once() == 0

    assert [m.ce_type for m in publisher.sent] == ["continuum.test.A.v1", "continuum.test.B.v1"]
    assert publisher.sent[0].metadata == META
    assert await relay.pending() == 0


async def test_a_broker_that_is_down_loses_nothing_and_the_rows_are_retried(
    database: Database,
) -> None:
    store = SqlEventStore(database)
    await append(store, "s-1", 0, "A", "B")
    down = BrokerDown()

    with pytest.raises(ConnectionError):
        await OutboxRelay(database, down).relay_once()

    assert await OutboxRelay(database, down).pending() == 2
    publisher = RecordingPublisher()
    assert await OutboxRelay(database, publisher).relay_once() == 2
    assert [m.data["v"] for m in publisher.sent] == [0, 1]


async def test_the_running_relay_waits_out_an_outage_and_then_publishes(
    database: Database,
) -> None:
    store = SqlEventStore(database)
    await append(store, "s-1", 0, "A")

    class Flaky(RecordingPublisher):
        failures = 3

        async def publish(self, messages: Sequence[OutboxMessage]) -> None:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("not yet")
            await super().publish(messages)

    publisher, stop = Flaky(), asyncio.Event()
    relay = OutboxRelay(database, publisher, idle_interval=0.01, max_backoff=0.05)
    task = asyncio.create_task(relay.run(stop))
    try:
        async with asyncio.timeout(10):
            while not publisher.sent:
                await asyncio.sleep(0.01)
    finally:
        stop.set()
        await task
    assert [m.ce_type for m in publisher.sent] == ["continuum.test.A.v1"]
    assert publisher.failures == 0


async def test_replicas_publish_every_message_once_and_each_stream_in_order(
    database: Database,
) -> None:
    store = SqlEventStore(database)
    streams = [f"s-{i}" for i in range(6)]
    for version in range(5):
        for stream in streams:
            await append(store, stream, version, "A")
    publishers = [RecordingPublisher(delay=0.01) for _ in range(3)]
    relays = [OutboxRelay(database, p, batch_size=7) for p in publishers]

    async def drain(relay: OutboxRelay) -> None:
        while await relay.pending():
            await relay.relay_once()

    async with asyncio.timeout(60):
        await asyncio.gather(*(drain(r) for r in relays))

    sent = [m for p in publishers for m in p.sent]
    assert len(sent) == 30
    assert len({m.event_id for m in sent}) == 30
    # Per stream, a message is handed over only after every earlier one of its stream was sent.
    for stream in streams:
        for publisher in publishers:
            mine = [m.data["v"] for m in publisher.sent if m.key == stream]
            assert mine == sorted(mine)


async def test_republishing_the_log_queues_every_published_event_again(
    database: Database,
) -> None:
    store, publisher = SqlEventStore(database), RecordingPublisher()
    await append(store, "s-1", 0, "A", "Private")
    await append(store, "s-2", 0, "B")
    relay = OutboxRelay(database, publisher)
    await relay.relay_once()

    queued = await republish_log(database, store, translate, page=1)
    await relay.relay_once()

    assert queued == 2
    assert [m.ce_type for m in publisher.sent] == [
        "continuum.test.A.v1",
        "continuum.test.B.v1",
        "continuum.test.A.v1",
        "continuum.test.B.v1",
    ]
