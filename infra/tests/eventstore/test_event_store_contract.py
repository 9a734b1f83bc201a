"""The event store contract: every adapter (in memory, SQLite, PostgreSQL) passes the same tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conftest import STORAGE_BACKENDS, database_factory
from infra.eventstore import (
    ConcurrencyError,
    EventMetadata,
    EventStore,
    InMemoryEventStore,
    NewEvent,
    OutboxMessage,
    RecordedEvent,
    SqlEventStore,
    StreamAppend,
)

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 14, 15, 0, tzinfo=dt.UTC)
META = EventMetadata(correlation_id="corr-1", actor="supervisor-7", site_id="site-a")


def event(kind: str = "SessionLogged", **data: object) -> NewEvent:
    return NewEvent(type=kind, data={"n": 1, **data}, occurred_at=T0)


@pytest.fixture(params=["memory", *STORAGE_BACKENDS])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventStore]:
    if request.param == "memory":
        yield InMemoryEventStore()
        return
    async with database_factory(request.param, request, tmp_path) as make:
        yield SqlEventStore(await make())


async def test_a_new_stream_reads_empty(store: EventStore) -> None:
    assert await store.read("supervisee-1") == []


async def test_appended_events_read_back_in_version_order_with_all_their_fields(
    store: EventStore,
) -> None:
    first, second = event(n=1), event("AgreementSigned", n=2)

    recorded = await store.append([StreamAppend("s-1", 0, [first, second])], META)

    read = await store.read("s-1")
    assert read == recorded
    assert [(e.version, e.type, e.data["n"]) for e in read] == [
        (1, "SessionLogged", 1),
        (2, "AgreementSigned", 2),
    ]
    assert read[0].event_id == first.event_id
    assert read[0].occurred_at == T0
    assert read[0].recorded_at.tzinfo is not None
    assert read[0].metadata == META
    assert read[0].position < read[1].position


async def test_appending_at_the_expected_version_continues_the_stream(store: EventStore) -> None:
    await store.append([StreamAppend("s-1", 0, [event()])], META)
    await store.append([StreamAppend("s-1", 1, [event(n=2)])], META)
    assert [e.version for e in await store.read("s-1")] == [1, 2]


async def test_appending_at_a_stale_version_is_a_concurrency_error_and_records_nothing(
    store: EventStore,
) -> None:
    await store.append([StreamAppend("s-1", 0, [event()])], META)

    with pytest.raises(ConcurrencyError) as raised:
        await store.append([StreamAppend("s-1", 0, [event(n=2)])], META)

    assert raised.value.stream_id == "s-1"
    assert [e.data["n"] for e in await store.read("s-1")] == [1]


async def test_a_multi_stream_append_is_all_or_nothing(store: EventStore) -> None:
    await store.append([StreamAppend("b", 0, [event()])], META)

    with pytest.raises(ConcurrencyError):
        await store.append([StreamAppend("a", 0, [event()]), StreamAppend("b", 0, [event()])], META)

    assert await store.read("a") == []
    assert len(await store.read("b")) == 1


async def test_streams_are_independent(store: EventStore) -> None:
    await store.append([StreamAppend("a", 0, [event(n=1)])], META)
    await store.append([StreamAppend("b", 0, [event(n=2)])], META)
    assert [e.data["n"] for e in await store.read("a")] == [1]
    assert [e.data["n"] for e in await store.read("b")] == [2]


async def test_a_stream_reads_from_after_a_version(store: EventStore) -> None:
    await store.append([StreamAppend("s-1", 0, [event(n=1), event(n=2), event(n=3)])], META)
    assert [e.version for e in await store.read("s-1", after_version=1)] == [2, 3]
    assert await store.read("s-1", after_version=3) == []


async def test_read_all_pages_through_every_stream_in_log_order(store: EventStore) -> None:
    for i in range(5):
        await store.append([StreamAppend(f"s-{i % 2}", i // 2, [event(n=i)])], META)

    first = await store.read_all(limit=3)
    rest = await store.read_all(after_position=first[-1].position, limit=10)

    assert [e.data["n"] for e in first + rest] == [0, 1, 2, 3, 4]


async def test_concurrent_appenders_on_one_stream_one_wins_the_others_conflict(
    store: EventStore,
) -> None:
    await store.append([StreamAppend("s-1", 0, [event()])], META)

    async def contender(n: int) -> RecordedEvent | ConcurrencyError:
        try:
            (recorded,) = await store.append([StreamAppend("s-1", 1, [event(n=n)])], META)
            return recorded
        except ConcurrencyError as error:
            return error

    results = await asyncio.gather(*(contender(n) for n in range(10, 18)))

    winners = [r for r in results if isinstance(r, RecordedEvent)]
    assert len(winners) == 1
    assert all(isinstance(r, ConcurrencyError) for r in results if r is not winners[0])
    assert [e.version for e in await store.read("s-1")] == [1, 2]
    assert (await store.read("s-1"))[1].data["n"] == winners[0].data["n"]


async def test_the_translator_decides_what_is_published(store: EventStore) -> None:
    def translate(recorded: RecordedEvent) -> OutboxMessage | None:
        if recorded.type != "SessionLogged":
            return None
        return OutboxMessage(
            event_id=recorded.event_id,
            topic="t",
            key=recorded.stream_id,
            ce_type="continuum.test.SessionLogged.v1",
            source="/test",
            subject=recorded.stream_id,
            occurred_at=recorded.occurred_at,
            data=recorded.data,
            metadata=recorded.metadata,
        )

    recorded = await store.append(
        [StreamAppend("s-1", 0, [event(), event("Private")])], META, outbox=translate
    )
    assert len(recorded) == 2
    assert uuid.UUID(str(recorded[0].event_id))
