"""A service composed as its process composes it (its `bootstrap.compose`), on a migrated
database of a test's backend, without Kafka: what the tests that drive a whole service's
consumers or API in one process share.

Its subscriptions are driven through faststream's in-memory broker, which hands a published
record to the service's real subscription (decoding, inbox, batch and per-event handlers, dead
letters) as Kafka would; its gRPC server (`serving`) is the one `run_service` builds.
"""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from sqlalchemy import MetaData, Table, func, select

from conftest import DatabaseFactory
from contracts.events import EventContract
from contracts.topics import dead_letter_topic
from infra.commands import CommandRunner, SqlUnitStore
from infra.db import Database
from infra.eventstore import EventMetadata, OutboxMessage, SqlEventStore
from infra.messaging.cloudevents import encode
from infra.messaging.consumer import DLT_ERROR_TYPE, DLT_EVENT_ID, DLT_REASON
from infra.runtime import Runtime, ServiceParts, load_settings, service_server
from infra.schema import inbox
from infra.security.crypto.keys import memory_keyring
from infra.security.tokens import TokenVerifier
from infra.telemetry import TelemetryHandle

SERVICES = ("supervision", "coaching", "referral", "compliance")
# What a consumer reacts with is recorded at this moment (it is inside every date bound).
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    event_id: str
    error_type: str
    reason: str


@dataclass
class Composed:
    name: str
    db: Database
    runtime: Runtime
    parts: ServiceParts
    broker: KafkaBroker
    dead_letters: list[DeadLetter] = field(default_factory=list)
    delivered: list[EventContract] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    async def deliver(self, event: EventContract, recorded_at: dt.datetime = NOW) -> uuid.UUID:
        """The event as its producer's relay publishes it, delivered to the service's
        subscriptions; returns its id."""
        message = OutboxMessage(
            event_id=uuid.uuid4(),
            topic=event.topic,
            key=event.key(),
            ce_type=event.ce_type(),
            source=f"/continuum/{event.topic.split('.')[1]}",
            subject=event.key(),
            occurred_at=recorded_at,
            data=event.model_dump(mode="json"),
            metadata=EventMetadata(correlation_id="composed-test", actor="tester"),
        )
        key, value, headers = encode(message)
        await self.broker.publish(
            value,
            event.topic,
            key=key,
            headers={name: (raw or b"").decode() for name, raw in headers},
        )
        self.delivered.append(event)
        return message.event_id

    async def applied(self, event_id: uuid.UUID) -> bool:
        """Whether a subscription of the service applied the event (its inbox row)."""
        async with self.db.read() as conn:
            found = await conn.execute(
                select(func.count()).select_from(inbox).where(inbox.c.event_id == event_id)
            )
            return bool(found.scalar_one())

    def dead_letter_of(self, event_id: uuid.UUID) -> DeadLetter | None:
        return next((d for d in self.dead_letters if d.event_id == str(event_id)), None)

    async def rows(self, *, without: frozenset[str] = frozenset()) -> dict[str, int]:
        """The row count of every table of the service's database but those named."""
        async with self.db.read() as conn:
            if not self.tables:
                metadata = MetaData()
                await conn.run_sync(lambda sync: metadata.reflect(sync))
                self.tables.extend(metadata.tables.values())
            counted = [t for t in self.tables if t.name not in without]
            query = select(
                *(select(func.count()).select_from(t).scalar_subquery() for t in counted)
            )
            counts = (await conn.execute(query)).one()
            return {table.name: count for table, count in zip(counted, counts, strict=True)}


@asynccontextmanager
async def serving(service: Composed, verifier: TokenVerifier) -> AsyncIterator[str]:
    """The service's gRPC server, as `run_service` builds it, on a free local port: its
    address."""
    server = service_server(
        "127.0.0.1:0", service.parts, service.db, verifier, service.runtime.keys
    )
    await server.start()
    try:
        yield f"127.0.0.1:{server.port}"
    finally:
        await server.stop(grace=0)


@asynccontextmanager
async def composed(
    name: str, make_database: DatabaseFactory, telemetry: TelemetryHandle
) -> AsyncIterator[Composed]:
    """The service `name` composed on a fresh database of the factory's backend, its
    subscriptions on the in-memory broker (their dead letters collected)."""
    bootstrap = importlib.import_module(f"{name}.bootstrap")
    db = await make_database(bootstrap.MIGRATIONS)
    broker = KafkaBroker("127.0.0.1:1")  # never connected: the in-memory broker stands in
    keys = memory_keyring()
    runtime = Runtime(
        settings=load_settings(name, bootstrap.DEFAULT_PORT),
        telemetry=telemetry,
        db=db,
        store=SqlEventStore(db),
        broker=broker,
        runner=CommandRunner(SqlUnitStore(db, bootstrap.translate), keys),
        keys=keys,
        clock=lambda: NOW,
    )
    parts: ServiceParts = bootstrap.compose(runtime)
    service = Composed(name, db, runtime, parts, broker)

    for subscription in parts.subscriptions:

        @broker.subscriber(dead_letter_topic(subscription.group).name)
        async def collect(body: Any, message: KafkaMessage) -> None:
            headers = message.headers
            service.dead_letters.append(
                DeadLetter(
                    str(headers.get(DLT_EVENT_ID, "")),
                    str(headers.get(DLT_ERROR_TYPE, "")),
                    str(headers.get(DLT_REASON, "")),
                )
            )

    async with TestKafkaBroker(broker):
        yield service
