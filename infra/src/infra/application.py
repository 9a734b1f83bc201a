"""What every service's use cases share: the context of a command, recorded events made from
domain events, and recorded events translated into published contracts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from contracts.events import EventContract
from contracts.topics import event_topic
from infra.ddd import DomainEvent
from infra.eventstore.model import EventMetadata, NewEvent, OutboxMessage, RecordedEvent


def to_new_events(events: Iterable[DomainEvent], occurred_at: dt.datetime) -> list[NewEvent]:
    """The events as they are, nothing sealed: what tests seed a store with. The command runner
    seals the sensitive fields of what it appends (`infra.commands.sealing`)."""
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


def published(event: RecordedEvent, contract: EventContract) -> OutboxMessage:
    """The outbox message for a recorded event published as `contract`, from the source its
    topic declares (the only one its consumers accept there)."""
    topic = event_topic(contract.topic)
    if topic is None or topic.source is None:
        raise ValueError(f"{contract.ce_type()}: {contract.topic} is not a declared event topic")
    return OutboxMessage(
        event_id=event.event_id,
        topic=contract.topic,
        key=contract.key(),
        ce_type=contract.ce_type(),
        source=topic.source,
        subject=event.stream_id,
        occurred_at=event.occurred_at,
        data=contract.model_dump(mode="json"),
        metadata=event.metadata,
    )
