"""What every service's command handlers share: loading a stream's state, recording new events,
and translating recorded events into published contracts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from contracts.events import EventContract
from infra.ddd import DomainEvent, EventTypes
from infra.eventstore.model import (
    EventMetadata,
    EventStore,
    NewEvent,
    OutboxMessage,
    RecordedEvent,
    StreamAppend,
)

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Loaded(Generic[S]):
    """A stream's state and the version it was read at (0: the stream does not exist yet)."""

    stream_id: str
    state: S
    version: int

    def append(self, events: Iterable[DomainEvent], occurred_at: dt.datetime) -> StreamAppend:
        """The append of new events, accepted only if nobody wrote to the stream since."""
        return StreamAppend(self.stream_id, self.version, to_new_events(events, occurred_at))


async def load(
    store: EventStore,
    stream_id: str,
    fold: Callable[[Iterable[DomainEvent]], S],
    types: EventTypes,
) -> Loaded[S]:
    recorded = await store.read(stream_id)
    events = [types.load(event.type, event.data) for event in recorded]
    version = recorded[-1].version if recorded else 0
    return Loaded(stream_id, fold(events), version)


def to_new_events(events: Iterable[DomainEvent], occurred_at: dt.datetime) -> list[NewEvent]:
    return [
        NewEvent(
            type=event.type,
            data=event.to_data(),
            occurred_at=occurred_at,
            schema_version=event.schema_version,
        )
        for event in events
    ]


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Who asked, when, and within which trace: becomes the metadata of the events recorded."""

    now: dt.datetime
    metadata: EventMetadata

    @property
    def today(self) -> dt.date:
        return self.now.date()


def published(event: RecordedEvent, contract: EventContract, *, source: str) -> OutboxMessage:
    """The outbox message for a recorded event published as `contract`."""
    return OutboxMessage(
        event_id=event.event_id,
        topic=contract.topic,
        key=contract.key(),
        ce_type=contract.ce_type(),
        source=source,
        subject=event.stream_id,
        occurred_at=event.occurred_at,
        data=contract.model_dump(mode="json"),
        metadata=event.metadata,
    )
