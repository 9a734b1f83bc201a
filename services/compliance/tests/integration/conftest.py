"""What the compliance integration tests share: contract events as the consumer receives them,
delivered one by one or as one batch, and a real Kafka-protocol broker."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from compliance.adapters.read_model import Projector, Touched
from compliance.entrypoints.consumers import CONSUMER_GROUP, ProjectionConsumer, handlers
from contracts import events as ev
from contracts.events import current_type
from infra.db import Database
from infra.eventstore import EventMetadata, OutboxMessage
from infra.inbox import first_deliveries, first_delivery
from infra.messaging.broker import EmbeddedBroker
from infra.messaging.cloudevents import IncomingEvent, decode, encode


def outbox_message(
    event: ev.EventContract,
    recorded_at: dt.datetime,
    event_id: uuid.UUID | None = None,
    *,
    ce_type: str | None = None,
) -> OutboxMessage:
    """The event as its producer's outbox publishes it, recorded at `recorded_at`."""
    return OutboxMessage(
        event_id=event_id or uuid.uuid4(),
        topic=event.topic,
        key=event.key(),
        ce_type=ce_type or event.ce_type(),
        source="/continuum/test",
        subject=event.key(),
        occurred_at=recorded_at,
        data=event.model_dump(mode="json"),
        metadata=EventMetadata(correlation_id="test"),
    )


@dataclass(frozen=True)
class Feed:
    """Events into the read model as the consumer runtime applies them."""

    def message(
        self,
        event: ev.EventContract,
        recorded_at: dt.datetime,
        event_id: uuid.UUID | None = None,
        *,
        ce_type: str | None = None,
    ) -> IncomingEvent:
        """The event as a consumer receives it from Kafka: encoded and decoded as a CloudEvent."""
        return decode(*encode(outbox_message(event, recorded_at, event_id, ce_type=ce_type)))

    async def one_by_one(self, db: Database, incoming: Sequence[IncomingEvent]) -> None:
        """Per message: the inbox row and the projection in one transaction each."""
        table = handlers()
        for event in incoming:
            handler = table.get(event.ce_type) or table[current_type(event.ce_type)]
            async with db.transaction() as conn:
                if await first_delivery(conn, CONSUMER_GROUP, event.event_id):
                    await handler(conn, event)

    async def as_one_batch(
        self, db: Database, incoming: Sequence[IncomingEvent], projector: Projector | None = None
    ) -> Touched:
        """The whole batch: the inbox rows and the projection in one transaction."""
        async with db.transaction() as conn:
            new = await first_deliveries(conn, CONSUMER_GROUP, (e.event_id for e in incoming))
            todo = [e for e in incoming if e.event_id in new]
            return await (projector or Projector()).apply(conn, todo)

    def consumer(self) -> ProjectionConsumer:
        return ProjectionConsumer(Projector())


@pytest.fixture
def feed() -> Feed:
    return Feed()


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(log_file=tmp_path_factory.mktemp("tansu") / "tansu.log") as broker:
        yield broker
